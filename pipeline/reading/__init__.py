"""Reading: find the inputs, read each workbook's cells as strings, locate them (staging) and type them (parse)."""
