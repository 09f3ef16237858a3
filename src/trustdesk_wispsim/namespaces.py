"""The XML namespaces of TS 103 120 (HI-1) and of the EU forms, as public material that quotes
ETSI TS 104 144 V1.2.1 names them (the standard's own text could not be read here)."""

from __future__ import annotations

CORE = "http://uri.etsi.org/03120/common/2019/10/Core"
COMMON = "http://uri.etsi.org/03120/common/2016/02/Common"
AUTH = "http://uri.etsi.org/03120/common/2020/09/Authorisation"
TASK = "http://uri.etsi.org/03120/common/2020/09/Task"
DOC = "http://uri.etsi.org/03120/common/2020/09/Document"
NOTIFY = "http://uri.etsi.org/03120/common/2016/02/Notification"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
FORM1 = "http://data.europa.eu/edm/1/ns/forms/EPOC-FORM_1#"
FORM2 = "http://data.europa.eu/edm/1/ns/forms/EPOC-PR-FORM-2#"
FORM3 = "http://data.europa.eu/edm/1/ns/forms/EPOC-FORM-3#"
FORM5 = "http://data.europa.eu/edm/1/ns/forms/EPOC-PR-FORM-5#"
FORM6 = "http://data.europa.eu/edm/1/ns/forms/EPOC-PR-FORM-6#"

NSMAP = {
    None: CORE,
    "common": COMMON,
    "auth": AUTH,
    "task": TASK,
    "doc": DOC,
    "notify": NOTIFY,
    "xsi": XSI,
}

# TS 103 120 header version block as the EU profile fills it (ETSIVersion of TS 103 120 and the
# EU national profile version, seen in public converters of the reference implementation).
ETSI_VERSION = "V1.22.1"
PROFILE_OWNER = "EU"
PROFILE_VERSION = "v1.3.1"
