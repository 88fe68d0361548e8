"""What the bureau sends out for a year, built from the published warehouse.

- the year's workbook (排名表, 复核表, 问题清单, 未报送), ready to print;
- one 退回修改 notice per unit that must resubmit, and a zip of all of them;
- the summary report 全县部门整体支出绩效自评情况 (.docx and .pdf) with its charts.

`load` is the only module that reads the warehouse; `workbook`, `notices` and
`summary` turn its frames into bytes; `charts` and `pdf` drive the browser; `build`
writes the files. Run it with `python -m pipeline.outputs --year 2024` (`make report`).
"""
