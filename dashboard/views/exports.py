"""导出材料: the files the bureau sends out for the year, the same as `make report` writes.

They always cover the whole county: the sidebar's 单位类型, 主管部门 and 复核等级 do not
narrow them. Every file is built on request, not on each visit: for a province the
workbook alone takes seconds, and the summary report needs the browser to draw its charts.
"""

from datetime import date

import streamlit as st

from dashboard import data, filters, ui
from pipeline import ledger, settings
from pipeline.outputs import build as outputs_build
from pipeline.outputs import load as outputs_load
from pipeline.outputs import notices, ranking_book, summary
from pipeline.outputs.charts import ChartsUnavailable, render_png
from pipeline.outputs.common import RESUBMIT_WORKING_DAYS, add_working_days
from pipeline.outputs.load import YearData
from pipeline.outputs.pdf import PdfUnavailable, html_to_pdf

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

chosen = filters.current()
year = chosen.year
st.title(f"导出材料 · {year} 年度")
st.caption("以下材料均按全县全部单位生成，不受侧栏中单位类型、主管部门和复核等级筛选的影响；"
           "与命令 `make report YEAR=" f"{year}` 生成的文件相同。")

build = data.build_info()


def year_data() -> YearData:
    """The year's tables as `make report` reads them (the same queries), through the dashboard's door."""
    return outputs_load.year_data(year, data.query)


left, right = st.columns(2)
issued_on = left.date_input("落款日期", value=date.today(), key="exports_issued_on", format="YYYY-MM-DD")
resubmit_by = right.date_input("重新报送截止日期", value=add_working_days(issued_on, RESUBMIT_WORKING_DAYS),
                               min_value=issued_on, key="exports_resubmit_by", format="YYYY-MM-DD",
                               help=f"默认为落款日期后第 {RESUBMIT_WORKING_DAYS} 个工作日（只跳过周末）")
due = notices.deadline(issued_on, resubmit_by)

st.subheader("汇总表与退回修改通知")
st.write("汇总表含排名表、复核表、问题清单、未报送四个工作表，A4 横向，可直接打印；"
         "退回修改通知每个须重新报送的单位一份。")
files_key = ("exports_files", str(build.get("build_id", "")), year, due.resubmit_by.isoformat(),
             issued_on.isoformat())
if st.button("生成汇总表和退回修改通知", key="exports_prepare", icon=":material/table_view:"):
    with st.spinner("正在生成……"):
        source = year_data()
        st.session_state[files_key] = (
            ranking_book.year_workbook(source),
            # The ledger's earlier notices make a unit's next one its second round, as in `make report`;
            # only make report records what is sent.
            notices.year_notices(source.status, source.findings, year, due, source.rectifications,
                                 ledger.all_notices(settings.ledger_path())))
if files_key not in st.session_state:
    st.caption("点击上面的按钮生成后即可下载。")
else:
    year_workbook, year_notices = st.session_state[files_key]
    ui.audited_download_button("下载汇总表（Excel）", lambda: year_workbook,
                               file_name=outputs_build.workbook_name(year), mime=XLSX, key="exports_workbook",
                               table="汇总表")
    if not year_notices:
        st.success("本年度没有需要退回修改的单位。")
    else:
        st.write(f"退回修改通知共 {len(year_notices)} 份，重新报送截止 {due.resubmit_by.isoformat()}。")
        ui.audited_download_button(f"下载全部通知（{len(year_notices)} 份，zip）",
                                   lambda: notices.notices_zip(year_notices, issued_on),
                                   file_name=outputs_build.notices_zip_name(year), mime="application/zip",
                                   key="exports_notices_zip", table="退回修改通知", rows=len(year_notices),
                                   icon=":material/folder_zip:")
        for notice in year_notices:
            row = st.container(horizontal=True, vertical_alignment="center")
            row.write(f"{notice.unit_name}：须改正 {notice.must_fix} 项，供参考 {notice.for_reference} 项")
            ui.audited_download_button("下载", lambda content=notice.content: content,
                                       file_name=notice.file_name, mime=DOCX, container=row,
                                       key=f"exports_notice_{notice.file_name}", table="退回修改通知", rows=1)

st.subheader("全县部门整体支出绩效自评情况")
report_key = ("exports_report", str(build.get("build_id", "")), year, issued_on.isoformat())
if st.button("生成汇总报告（Word 和 PDF）", key="exports_make_report", icon=":material/description:"):
    with st.spinner("正在绘制图表并生成报告……"):
        content = summary.summary_content(year_data(), issued_on)
        try:
            images = render_png(content.figures)
            st.session_state[report_key] = (summary.summary_docx(content, images),
                                            html_to_pdf(summary.summary_html(content, images)))
        except (ChartsUnavailable, PdfUnavailable) as error:
            st.error(f"报告未能生成：{error}")
if report_key in st.session_state:
    report_docx, report_pdf = st.session_state[report_key]
    stem = outputs_build.summary_stem(year)
    buttons = st.container(horizontal=True, gap="small")
    ui.audited_download_button("下载报告（Word）", lambda: report_docx, file_name=f"{stem}.docx", mime=DOCX,
                               key="exports_report_docx", table="汇总报告", container=buttons)
    ui.audited_download_button("下载报告（PDF）", lambda: report_pdf, file_name=f"{stem}.pdf",
                               mime="application/pdf", key="exports_report_pdf", table="汇总报告",
                               container=buttons)
else:
    st.caption("报告中的图表由本机的 Chromium 绘制，生成约需十秒。")
