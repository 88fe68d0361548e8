"""The bureau's form written as a workbook: the blank template and the writer it shares with the sample."""
