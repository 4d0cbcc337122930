"""Every problem code the API answers, in words a person acts on: what happened and what to do
next, in Chinese and English. Pages show these next to the field (see ``static/portal.js``).

- :data:`PROBLEM_WORDS`: for every code, a text that needs nothing but the code;
- :data:`DETAILED_WORDS`: for some codes, a text with ``{placeholders}`` filled from the
  problem's own fields (``{deadline}`` from ``deadline_words``, ``{stage}`` from ``stage``...),
  used when the problem carries every one of them, else the plain text is;
- :data:`VALUE_WORDS`: words for a field whose value is a name (a stage, a filing);
- :data:`FORMATS`: how a number field reads (``bytes``: a size such as 50 MB).

A field ``x`` fills ``{x}`` from, in order: ``x_words[lang]`` in the problem (the API's own
words, e.g. a deadline in days), ``VALUE_WORDS[x][value]``, the value formatted by
``FORMATS[x]``, the value itself. ``tests/unit/test_problem_words.py`` finds every code the API
can answer in the sources and keeps these tables complete.
"""

from __future__ import annotations

from typing import Any, Literal

from services.gateway.portal.words import Lang
from shared.domain.stages import Stage

# code: (中文, English). Every code the API can answer; the test keeps it complete.
PROBLEM_WORDS: dict[str, tuple[str, str]] = {
    # Signing in and who may do what
    "unauthenticated": (
        "您尚未登录，或登录已结束。请重新登录后再办理。",
        "You are not signed in, or your session has ended. Please sign in again and carry on.",
    ),
    "invalid_token": (
        "登录凭据无效或已被撤销。请重新登录；如仍不能登录，请联系省知识产权局重新开通。",
        "Your sign-in credentials are not valid or have been revoked. Please sign in again;"
        " if you still cannot, ask the provincial IP office to give you access again.",
    ),
    "token_expired": (
        "登录凭据已过期。请联系省知识产权局获取新的登录链接。",
        "Your sign-in credentials have expired. Please ask the provincial IP office for a new"
        " sign-in link.",
    ),
    "token_revoked": (
        "登录凭据已被撤销。如仍需使用本平台，请联系省知识产权局。",
        "Your sign-in credentials have been revoked. If you still need the portal, please"
        " contact the provincial IP office.",
    ),
    "session_expired": (
        "您长时间未操作，登录已失效，本次提交未被受理。请重新登录后再提交。",
        "You were idle too long and your session has ended, so this was not sent. Please sign"
        " in again and send it once more.",
    ),
    "csrf_failed": (
        "表单已失效（缺少本次登录的安全校验码），未作任何更改。请刷新页面后重新提交。",
        "This form has expired (it lacks this session's security code), so nothing was changed."
        " Please reload the page and send it again.",
    ),
    "signin_link_invalid": (
        "该登录链接无效。请核对链接是否完整；如仍无效，请联系省知识产权局重新发送。",
        "This sign-in link is not valid. Please check that the whole link was copied; if it"
        " still fails, ask the provincial IP office to send a new one.",
    ),
    "signin_link_used": (
        "该登录链接已使用过，每个链接只能使用一次。请联系省知识产权局获取新的登录链接。",
        "This sign-in link has been used already; each link works once. Please ask the"
        " provincial IP office for a new sign-in link.",
    ),
    "signin_link_expired": (
        "该登录链接已过期。请联系省知识产权局获取新的登录链接。",
        "This sign-in link has expired. Please ask the provincial IP office for a new one.",
    ),
    "signin_user_revoked": (
        "该账号已被停用，不能登录。如有疑问，请联系省知识产权局。",
        "This account has been disabled and cannot sign in. If you have questions, please"
        " contact the provincial IP office.",
    ),
    "forbidden": (
        "您的账号无权进行此操作。如需权限，请联系省知识产权局。",
        "Your account may not do this. Please contact the provincial IP office if you need to.",
    ),
    "not_your_role": (
        "此项操作不由您的角色办理。请确认所用账号；如确需办理，请联系省知识产权局。",
        "This is not done by your role. Please check which account you are using; if it must"
        " be done, contact the provincial IP office.",
    ),
    "actor_required": (
        "未能确认操作人，本次提交未被受理。请重新登录后再提交。",
        "Who is acting could not be told, so this was not accepted. Please sign in again and"
        " send it once more.",
    ),
    "not_assigned": (
        "您不是该项评审的专家。请只对分配给您的评审评分；如有疑问，请联系省知识产权局。",
        "You are not an expert of this review. Please score only the reviews assigned to you;"
        " if in doubt, contact the provincial IP office.",
    ),
    # What was sent
    "bad_request": (
        "请求有误，未能受理。请检查所填内容后重新提交。",
        "The request could not be accepted. Please check what you entered and send it again.",
    ),
    "invalid_request": (
        "所填内容不完整或格式有误。请按提示修改后重新提交。",
        "Something is missing or not in the expected form. Please correct it as shown and send"
        " it again.",
    ),
    "unknown_cursor": (
        "该列表的翻页位置已失效。请回到列表第一页重新浏览。",
        "That place in the list is no longer valid. Please go back to the first page of the list.",
    ),
    "invalid_input": (
        "所填内容不完整（例如代为核实须说明理由）。请补充后重新提交。",
        "Something is missing (for example, taking over a step needs a reason). Please add it"
        " and send it again.",
    ),
    "reason_required": (
        "须说明理由。请填写理由后重新提交。",
        "A reason is required. Please give one and send it again.",
    ),
    "contact_required": (
        "未登录提出异议须留联系方式。请填写联系电话或电子邮箱后重新提交。",
        "An objection sent without signing in needs a contact. Please give a telephone number"
        " or an e-mail address and send it again.",
    ),
    "invalid_targets": (
        "目标表有误。请检查每一行的指标编号、名称、目标值和单位，修改后重新提交。",
        "The target table has a mistake. Please check each row's key, name, target and unit,"
        " then send it again.",
    ),
    "invalid_actuals": (
        "实际完成情况有误。请为方案中的每项目标填写数值，修改后重新提交。",
        "The actuals have a mistake. Please enter a number for each target of the plan, then"
        " send them again.",
    ),
    "invalid_scores": (
        "评分有误。请检查每项得分是否在该项满分以内、否决项是否按定义勾选，修改后重新提交。",
        "The scores have a mistake. Please check that each score is within its maximum and that"
        " veto items are marked as defined, then send them again.",
    ),
    "computed_indicator": (
        "该指标由目标完成情况计算，专家不打分。请删去该指标的得分后重新提交。",
        "That indicator is computed from its target's completion; experts do not score it."
        " Please remove its score and send the others again.",
    ),
    "nothing_to_forward": (
        "该地区暂无待汇总报送的计划：所属单位的计划尚未提交或已报送。请待单位提交计划后再报送。",
        "No plan of the region's units waits to be forwarded: none has been filed yet, or they"
        " have been forwarded already. Please forward once a unit has filed its plan.",
    ),
    "already_forwarded": (
        "该地区已汇总报送所属单位的计划，目前没有新的待报送计划，无需重复报送。",
        "The region has forwarded its units' plans already and no other plan waits; there is"
        " no need to forward them again.",
    ),
    "not_a_forwarding_region": (
        "该地区不负责汇总报送：请选择本项目汇总报送层级（如省级）且在项目范围内的地区。",
        "That region does not forward plans: choose a region at the level where the program's"
        " plans are forwarded (such as a province), inside the program's region.",
    ),
    "invalid_extension": (
        "延期设置有误：新的截止时间须晚于原截止时间和当前时间。请修改后重新提交。",
        "The extension is not valid: the new deadline must be later than the current one and"
        " than now. Please correct it and send it again.",
    ),
    "invalid_rules": (
        "规则文件有误。请按列出的问题修改后重新提交。",
        "The rules document has mistakes. Please correct the problems listed and send it again.",
    ),
    "program_id_mismatch": (
        "规则文件中的项目编号与所选项目不一致。请核对后重新提交。",
        "The program id in the rules document is not the program chosen. Please check it and"
        " send it again.",
    ),
    "invalid_calendar": (
        "节假日表有误。请按列出的问题修改后重新提交。",
        "The holiday table has mistakes. Please correct the problems listed and send it again.",
    ),
    "calendar_id_mismatch": (
        "节假日表中的编号与所选节假日表不一致。请核对后重新提交。",
        "The id in the holiday table is not the table chosen. Please check it and send it again.",
    ),
    # Uploads
    "invalid_upload": (
        "上传的文件为空或不完整。请重新选择文件上传（每次一个文件）。",
        "The upload was empty or incomplete. Please choose the file and upload it again (one"
        " file at a time).",
    ),
    "invalid_filename": (
        "文件名不符合要求。请改为不含路径和特殊字符的文件名后重新上传。",
        "The file name is not accepted. Please rename the file without folders or special"
        " characters and upload it again.",
    ),
    "file_too_large": (
        "文件超过大小上限。请压缩或拆分后重新上传。",
        "The file is larger than allowed. Please compress or split it and upload it again.",
    ),
    "body_too_large": (
        "提交的内容超过大小上限。请精简内容或拆分文件后重新提交。",
        "What was sent is larger than allowed. Please shorten it or split the file and send it"
        " again.",
    ),
    "unsupported_media_type": (
        "文件类型不受理。请上传 PDF、DOCX、XLSX、ZIP、PNG 或 JPEG 格式的文件。",
        "This type of file is not accepted. Please upload a PDF, DOCX, XLSX, ZIP, PNG or JPEG"
        " file.",
    ),
    "unsafe_archive": (
        "压缩包不予接收（过大、层数过多或含不安全内容）。请解压检查后重新打包，或直接上传其中的文件。",
        "The archive is refused (too large, nested too deep or unsafe inside). Please unpack"
        " and check it, then pack it again or upload the files themselves.",
    ),
    "document_missing": (
        "未找到已上传的文件内容，本次提交未被受理。请重新上传文件。",
        "The uploaded file's content was not found, so this was not accepted. Please upload the"
        " file again.",
    ),
    "document_conflict": (
        "该文件编号已对应其他内容，本次提交未被受理。请重新上传文件。",
        "This document id already holds other content, so this was not accepted. Please upload"
        " the file again.",
    ),
    # Where the cycle stands
    "wrong_stage": (
        "当前阶段不受理此项操作。请刷新页面，按首页所示的当前阶段办理。",
        "This is not accepted at the current stage. Please reload the page and do what the"
        " home page shows for the current stage.",
    ),
    "deadline_passed": (
        "提交已截止。如需延期，请联系省知识产权局。",
        "The deadline has passed. To ask for an extension, please contact the provincial IP"
        " office.",
    ),
    "duplicate_filing": (
        "此项已提交或已办理，无需重复操作。请刷新页面查看最新状态和回执。",
        "This has already been sent or decided; there is nothing to repeat. Please reload the"
        " page to see the latest state and the receipt.",
    ),
    "already_scored": (
        "您已提交过该项评分（或本轮评分已全部完成），不能重复提交。请在评审页面查看已提交的评分表。",
        "You have already scored this review (or every expert has), so it cannot be sent again."
        " Please see the score sheet you sent on the review page.",
    ),
    "step_not_silent": (
        "该环节尚在核实期限内，不能代为核实。请待期限届满后再办理，或联系负责该环节的部门。",
        "That step is still within its window, so it cannot be taken over. Please wait until"
        " the window ends, or contact the office responsible for the step.",
    ),
    "step_taken_over": (
        "该环节已逾期，已由上级代为核实，无需再办理。如有疑问，请联系省知识产权局。",
        "That step passed its window and has been taken over by the office above; nothing more"
        " is needed from you. If in doubt, contact the provincial IP office.",
    ),
    "clock_skew": (
        "服务器时钟不一致，暂不能受理提交，本次提交未被受理。请稍后重试；如仍失败，请联系运维人员。",
        "The servers' clocks disagree, so this was not accepted for now. Please try again"
        " later; if it keeps failing, contact the system operators.",
    ),
    "rejected": (
        "此项操作未被受理。请刷新页面查看当前状态后重试；如仍失败，请联系运维人员。",
        "This was not accepted. Please reload the page to see the current state and try again;"
        " if it keeps failing, contact the system operators.",
    ),
    "program_too_large": (
        "本项目在册基地过多，单个年度无法承载。请拆分项目后再启动年度工作。",
        "This program has more bases than one program year can carry. Please split the program,"
        " then launch the year.",
    ),
    "roster_too_short": (
        "评审专家人数不足，不能启动年度工作。请先补充专家库，再启动。",
        "There are not enough experts on the roster to launch the year. Please add experts"
        " first, then launch.",
    ),
    "review_not_assigned": (
        "该基地本年度尚未分配评审专家。请待评审开始、专家分配后再办理。",
        "No experts have been assigned to review this base this year. Please wait until the"
        " review opens and experts are assigned.",
    ),
    "review_decided": (
        "本轮评审已评定，不能再改派专家。",
        "This round of review has been decided; its experts can no longer be changed.",
    ),
    # 公示 and objections
    "not_in_publication": (
        "当前不在公示期内，不受理异议。请在公示期间提出。",
        "Results are not in the 公示 (public notice) period now, so objections are not"
        " accepted. Please lodge one during that period.",
    ),
    "objection_closed": (
        "该年度结果已最终确定，不再受理异议。如有疑问，请联系省知识产权局。",
        "The year's results are final and objections are closed. If you have questions,"
        " please contact the provincial IP office.",
    ),
    "unknown_base": (
        "公示名单中没有该基地。请核对所选基地后重新提交。",
        "That base is not in the published list. Please check the base chosen and send it again.",
    ),
    "unknown_objection": (
        "未找到该异议。请从异议列表中打开后再办理。",
        "That objection was not found. Please open it from the list of objections.",
    ),
    "already_decided": (
        "该异议已处理，不能重复处理。请刷新页面查看处理结果。",
        "That objection has already been decided. Please reload the page to see the decision.",
    ),
    # Program-level target reports
    "unknown_target": (
        "本项目没有所列的项目级目标。请核对目标名称，只填报项目规则列出的目标。",
        "The program has no program-level target by that name. Please check the names and"
        " report only the targets the program's rules list.",
    ),
    "invalid_actual": (
        "所列目标的实际值格式不符：数值须不小于0，里程碑填“是”或“否”，比率须填分子和分母。请改正后重新提交。",
        "The actuals of the targets listed are of the wrong form: a number must be at least 0,"
        " a milestone yes or no, a ratio its numerator and denominator. Please correct them"
        " and send the report again.",
    ),
    "year_closed": (
        "该项目年度已结束，不再受理目标实际值。如需更正，请联系运维人员。",
        "The program year has ended and target actuals are no longer taken. To correct them,"
        " please contact the system operators.",
    ),
    # Bases in the registry
    "base_exists": (
        "该基地已登记，无需重复登记。",
        "This base is registered already; there is no need to register it again.",
    ),
    "reapplication_banned": (
        "该基地已摘牌退出，重新申报限制期内不得重新登记。请在限制期满后重新登记。",
        "This base was de-listed and may not re-apply while the ban on re-applying runs."
        " Please register it again once the ban has ended.",
    ),
    "domain_taken": (
        "该产业已有基地（一产业一基地）。请核对产业领域；如有疑问，请联系省知识产权局。",
        "Another base already holds this industry (one base per industry). Please check the"
        " industry; if in doubt, contact the provincial IP office.",
    ),
    "not_eligible": (
        "不符合登记条件。请按列出的原因补充后重新申请，或联系所在地市知识产权局。",
        "The base does not meet the conditions for registration. Please address the reasons"
        " listed and apply again, or contact your city IP office.",
    ),
    "unknown_participant_kind": (
        "本项目没有所选的参与单位类型。请从项目规则列出的类型中选择后重新登记。",
        "The program has no such kind of participant. Please choose one of the kinds its rules"
        " list and register again.",
    ),
    "not_delisted": (
        "该基地未被摘牌，无需恢复。",
        "This base has not been de-listed; there is nothing to reinstate.",
    ),
    "reapplication_ban_running": (
        "摘牌后的重新申请限制期尚未届满，暂不能恢复。请在限制期满后再办理。",
        "The re-application ban after the de-listing has not ended yet. Please reinstate the"
        " base once it has.",
    ),
    "status_transition_refused": (
        "基地当前状态不允许此项变更。请刷新页面查看基地状态；如有疑问，请联系运维人员。",
        "The base's current status does not allow this change. Please reload the page to see"
        " its status; if in doubt, contact the system operators.",
    ),
    # Not found (or not yours to see)
    "not_a_base_user": (
        "此页面供基地用户使用，您的账号不是基地用户。请从首页进入您的工作页面。",
        "This page is for a base's staff, and your account is not one. Please go to your own"
        " work from the home page.",
    ),
    "program_required": (
        "未指定项目。请从首页选择项目后再办理。",
        "No program was chosen. Please choose the program from the home page and carry on.",
    ),
    "not_found": (
        "您要找的页面或内容不存在。请从首页重新进入。",
        "What you are looking for does not exist. Please start again from the home page.",
    ),
    "method_not_allowed": (
        "此处不受理这种操作。请使用页面上的按钮办理。",
        "This cannot be done here. Please use the buttons on the page.",
    ),
    "program_not_found": (
        "未找到该项目，或您无权查看。请从首页进入；如有疑问，请联系省知识产权局。",
        "That program was not found, or is not yours to see. Please start from the home page;"
        " if in doubt, contact the provincial IP office.",
    ),
    "program_year_not_found": (
        "该项目年度尚未启动。请等待省知识产权局的启动通知。",
        "That program year has not been launched. Please wait for the provincial IP office's"
        " notice of launch.",
    ),
    "base_not_found": (
        "未找到该基地，或您无权查看。请从首页进入；如有疑问，请联系所在地市知识产权局。",
        "That base was not found, or is not yours to see. Please start from the home page; if"
        " in doubt, contact your city IP office.",
    ),
    "cycle_not_found": (
        "未找到该基地本年度的工作。请核对年度；如年度尚未启动，请等待省知识产权局通知。",
        "There is no cycle of that base for that year. Please check the year; if it has not"
        " been launched, wait for the provincial IP office's notice.",
    ),
    "document_not_found": (
        "未找到该文件，或您无权查看。请从回执或首页的链接打开。",
        "That document was not found, or is not yours to see. Please open it from a receipt or"
        " the home page.",
    ),
    "notice_not_found": (
        "未找到该通知或公告。请从通知列表中打开。",
        "That notice was not found. Please open it from the list of notices.",
    ),
    "results_not_published": (
        "该年度的评估结果尚未公布。请在公示开始后再查看。",
        "The results of that year have not been published. Please look again once the 公示"
        " (public notice) has begun.",
    ),
    "calendar_not_found": (
        "未找到该节假日表。请核对名称；如需新增，请联系运维人员。",
        "That holiday table was not found. Please check its name; to add one, contact the"
        " system operators.",
    ),
    "document_gone": (
        "该文件的内容已无法取回。请联系运维人员；如需要，请重新上传。",
        "That document's content can no longer be retrieved. Please contact the system"
        " operators; upload it again if asked to.",
    ),
    "checksum_mismatch": (
        "该文件的内容与登记的校验值不符，已停止提供。请联系运维人员核查。",
        "That document's content does not match its recorded checksum, so it is withheld."
        " Please contact the system operators.",
    ),
    # Too many at once
    "rate_limited": (
        "请求过于频繁。请稍后再试。",
        "Too many requests. Please wait a moment and try again.",
    ),
    "too_many_objections": (
        "提交过于频繁。请稍后再试。",
        "Too many objections from this address. Please wait a moment and try again.",
    ),
    "too_many_streams": (
        "同时打开的实时页面过多。请关闭其他页面后再试。",
        "Too many live pages are open. Please close some of them and try again.",
    ),
    # Not the person's doing
    "worker_unavailable": (
        "流程服务暂时没有响应，本次操作可能未完成。请稍后刷新页面查看；如未完成，请重新提交。",
        "The workflow service is not answering, so this may not have been done. Please reload"
        " the page in a while; if it was not done, send it again.",
    ),
    "service_unavailable": (
        "系统服务暂时没有响应，本次操作未完成。请稍后重试；如仍失败，请联系运维人员。",
        "A service is not answering, so this was not done. Please try again later; if it keeps"
        " failing, contact the system operators.",
    ),
    "temporal_unavailable": (
        "已保存，但流程服务暂时没有响应，尚未通知各基地的工作。请稍后重新提交以完成通知；如仍失败，请联系运维人员。",
        "It was stored, but the workflow service is not answering, so the cycles were not told."
        " Please send it again later to finish; if it keeps failing, contact the system"
        " operators.",
    ),
    "audit_unavailable": (
        "操作已生效，但审计记录未能写入。请不要重复操作，并联系运维人员补录。",
        "This has taken effect, but its audit record was not written. Please do not repeat it;"
        " contact the system operators to record it.",
    ),
    "object_store_unavailable": (
        "文件存储暂时不可用，文件未保存。请稍后重新上传；如仍失败，请联系运维人员。",
        "Document storage is not available, so the file was not stored. Please upload it again"
        " later; if it keeps failing, contact the system operators.",
    ),
    "database_unavailable": (
        "数据库暂时没有响应，本次操作未完成。请稍后重试。",
        "The database is not answering, so this was not done. Please try again in a moment.",
    ),
    "internal_error": (
        "系统出现意外错误，已记录。请稍后重试；如仍失败，请联系运维人员。",
        "An unexpected error occurred and was logged. Please try again later; if it persists,"
        " contact the system operators.",
    ),
}

# code: (中文, English) with {placeholders} from the problem's fields; used when it has them all.
DETAILED_WORDS: dict[str, tuple[str, str]] = {
    "reapplication_banned": (
        "该基地已摘牌退出，重新申报限制期至{until}止，期间不得重新登记。请在限制期满后重新登记。",
        "This base was de-listed and may not re-apply until {until}. Please register it"
        " again once the ban has ended.",
    ),
    "deadline_passed": (
        "{filing}提交已截止（{deadline}）。如需延期，请联系省知识产权局。",
        "The {filing} deadline has passed ({deadline}). To ask for an extension, please"
        " contact the provincial IP office.",
    ),
    "duplicate_filing": (
        "{filing}已提交，无需重复提交。请在首页查看回执。",
        "The {filing} has already been filed; there is no need to file it again. Please see"
        " its receipt on the home page.",
    ),
    "wrong_stage": (
        "当前处于「{stage}」阶段，不受理此项操作。请按首页所示的当前阶段办理。",
        "The cycle is at the stage “{stage}”, which does not accept this. Please do what the"
        " home page shows for that stage.",
    ),
    "file_too_large": (
        "文件超过大小上限（{limit}）。请压缩或拆分后重新上传。",
        "The file is larger than the limit ({limit}). Please compress or split it and upload"
        " it again.",
    ),
    "body_too_large": (
        "提交的内容超过大小上限（{limit}）。请精简内容或拆分文件后重新提交。",
        "What was sent is larger than the limit ({limit}). Please shorten it or split the file"
        " and send it again.",
    ),
    "rate_limited": (
        "请求过于频繁。请 {retry_after} 秒后再试。",
        "Too many requests. Please try again in {retry_after} seconds.",
    ),
    "too_many_objections": (
        "提交过于频繁。请 {retry_after_s} 秒后再试。",
        "Too many objections from this address. Please try again in {retry_after_s} seconds.",
    ),
    "program_too_large": (
        "本项目在册基地 {size} 个，超过单个年度可承载的 {limit} 个。请拆分项目后再启动年度工作。",
        "This program has {size} active bases, more than the {limit} one program year can carry."
        " Please split the program, then launch the year.",
    ),
    "roster_too_short": (
        "评审专家人数不足：每个基地需要 {needed} 名专家，专家库现有 {size} 名。"
        "请先补充专家库，再启动年度工作。",
        "There are not enough experts: each base needs {needed}, the roster has {size}. Please"
        " add experts first, then launch the year.",
    ),
}

_STAGE_EN: dict[Stage, str] = {
    Stage.PLAN_FILING: "plan filing",
    Stage.PLAN_REVIEW: "plan verification",
    Stage.IMPLEMENTING: "implementation",
    Stage.UNDER_REVIEW: "performance review",
    Stage.GRADED: "awaiting publication",
    Stage.RECTIFYING: "rectification",
    Stage.CLOSED: "closed",
    Stage.DELISTED: "de-listed",
    Stage.EXCLUDED: "not assessed",
    Stage.HELD: "held until last year's rectification ends",
    Stage.ENDED: "ended by a de-listing",
}

# field: value: (中文, English), for fields whose value is a name.
VALUE_WORDS: dict[str, dict[str, tuple[str, str]]] = {
    "stage": {stage.value: (stage.label_zh, _STAGE_EN[stage]) for stage in Stage},
    "filing": {
        "plan": ("方案", "plan"),
        "self_evaluation": ("自评报告", "self-evaluation"),
        "rectification": ("整改报告", "rectification report"),
    },
}

# field: how its number reads.
FORMATS: dict[str, Literal["bytes"]] = {"limit": "bytes"}


def problem_words(lang: Lang) -> dict[str, Any]:
    """What ``static/portal.js`` reads from the page (``#problem-words``): for each code its
    texts in ``lang``, the detailed one first; the value words; the formats."""
    index = 0 if lang == "zh" else 1
    codes: dict[str, list[str]] = {}
    for code, pair in PROBLEM_WORDS.items():
        detailed = DETAILED_WORDS.get(code)
        codes[code] = ([detailed[index]] if detailed else []) + [pair[index]]
    values = {
        field: {value: pair[index] for value, pair in named.items()}
        for field, named in VALUE_WORDS.items()
    }
    return {"codes": codes, "values": values, "formats": dict(FORMATS)}
