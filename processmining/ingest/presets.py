"""Presets: the export layouts of CRM and ticket systems, as data.

A :class:`Preset` names the columns of one system's export and how to read
them (shape, field filter, time zone, day-first rule). Field names follow each
system's documented export; see ``shared/CRM_EXPORTS.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..errors import IngestError

Shape = Literal["long", "wide", "transition"]


@dataclass(frozen=True)
class Preset:
    """One export layout.

    ``shape`` is how rows become events: ``long`` (one row per event),
    ``wide`` (one row per case, one date column per stage) or
    ``transition`` (one row per field change; only ``stage_fields`` become
    events, the activity is the new value). ``nested`` names the JSON
    flattener that turns the system's API document into the transition
    columns below. ``case`` lists candidate column names (first present wins).
    """

    name: str
    system: str
    shape: Shape
    description: str
    case: tuple[str, ...]
    activity: str | None = None
    timestamp: str | None = None
    resource: str | None = None
    end_timestamp: str | None = None
    #: transition: the column naming the changed field, its old value, and the stage fields kept
    field: str | None = None
    old_value: str | None = None
    stage_fields: tuple[str, ...] = ()
    #: transition: values of ``field`` that mark the creation of the record (a synthesised first stage)
    created_values: tuple[str, ...] = ()
    #: transition: fallback columns holding stage ids when the label column is blank
    activity_fallback: str | None = None
    old_value_fallback: str | None = None
    #: wide: regular expression over headers; groups (kind entered|exited, stage, pipeline)
    wide_pattern: str | None = None
    #: JSON flattener: "jira", "zendesk", "hubspot", "pipedrive"
    nested: str | None = None
    timezone: str = "UTC"
    dayfirst: bool | None = None
    #: consecutive repeats of the same stage are export artefacts (collapsed and counted)
    collapse_repeats: bool = True
    #: columns (lower case) whose joint presence identifies this layout
    signature: tuple[str, ...] = ()
    #: a warning every import with this preset carries (history depth limits)
    history_note: str | None = None

    def columns(self) -> dict[str, str]:
        """The mapping as shown in reports: role → column name (first case candidate)."""
        roles = {"case": " | ".join(self.case), "activity": self.activity, "timestamp": self.timestamp,
                 "resource": self.resource, "end_timestamp": self.end_timestamp, "field": self.field,
                 "old_value": self.old_value}
        return {k: v for k, v in roles.items() if v}


HUBSPOT_WIDE = (r"""^(?:Date (entered|exited) ["'“”‘’](.+?) \((.+)\)["'“”‘’]"""
                r"|(?:properties\.)?(?:hs_v2_)?date_(entered|exited)_(.+))$")

_PRESET_LIST = (
    Preset(
        name="salesforce-opportunity-history", system="Salesforce", shape="long",
        description="OpportunityHistory export: one snapshot row per change of stage, amount, probability or "
                    "close date; repeated stages are collapsed.",
        case=("OpportunityId",), activity="StageName", timestamp="CreatedDate", resource="CreatedById",
        signature=("opportunityid", "stagename", "createddate"),
        history_note=None,
    ),
    Preset(
        name="salesforce-field-history", system="Salesforce", shape="transition",
        description="OpportunityFieldHistory / CaseHistory / LeadHistory: one row per field change; StageName or "
                    "Status rows become events, the 'created' row gives the first stage; other fields become "
                    "case attributes (latest value).",
        case=("OpportunityId", "CaseId", "LeadId", "ParentId"), activity="NewValue", timestamp="CreatedDate",
        resource="CreatedById", field="Field", old_value="OldValue", stage_fields=("StageName", "Status"),
        created_values=("created",), signature=("field", "oldvalue", "newvalue", "createddate"),
        history_note="Salesforce keeps field history for 18 months in the UI and 24 months via the API (unless "
                     "Field Audit Trail is on): older stage changes may be missing",
    ),
    Preset(
        name="hubspot-deals", system="HubSpot", shape="wide",
        description='Deal export with Date entered "<Stage> (<Pipeline>)" / Date exited ... columns '
                    "(contacts use single quotes); melted into one event per entered stage.",
        case=("Record ID", "Deal ID", "hs_object_id", "id"), wide_pattern=HUBSPOT_WIDE,
        signature=("record id",),
        history_note="HubSpot 'Date entered' columns keep only the latest entry per stage: re-entries and backward "
                     "moves are not in this export (use preset hubspot-history for the full sequence)",
    ),
    Preset(
        name="hubspot-history", system="HubSpot", shape="transition", nested="hubspot",
        description="CRM API objects with propertiesWithHistory (dealstage / hs_pipeline_stage); values are stage "
                    "ids (map them to labels with a stage lookup). Newest-first histories are sorted.",
        case=("id",), activity="value", timestamp="timestamp", resource="updatedByUserId", field="property",
        stage_fields=("dealstage", "hs_pipeline_stage"), signature=("property", "value", "timestamp", "sourcetype"),
        history_note="HubSpot history values are stage ids (custom stages are numbers): pass a stage lookup "
                     "(id,label from /crm/v3/pipelines/deals) to see labels",
    ),
    Preset(
        name="pipedrive-flow", system="Pipedrive", shape="transition", nested="pipedrive",
        description="Deal flow (GET /v1/deals/{id}/flow, dealChange items, or its CSV form): stage_id changes "
                    "become events (formatted stage names), add_time gives the first stage.",
        case=("item_id",), activity="new_value_formatted", activity_fallback="new_value", timestamp="log_time",
        resource="user_id", field="field_key", old_value="old_value_formatted", old_value_fallback="old_value",
        stage_fields=("stage_id",), created_values=("add_time",),
        signature=("item_id", "field_key", "new_value", "log_time"),
    ),
    Preset(
        name="jira-changelog", system="Jira", shape="transition", nested="jira",
        description="Issues with expand=changelog (REST JSON): status items become events; the first status is "
                    "synthesised from fields.created and the first item's fromString.",
        case=("key",), activity="toString", timestamp="created", resource="author", field="field",
        old_value="fromString", stage_fields=("status",), created_values=("created",),
        signature=("key", "field", "fromstring", "tostring", "created"),
    ),
    Preset(
        name="jira-issue-history", system="Jira", shape="transition",
        description="Jira Data Center Data Pipeline issue_history export: status rows become events.",
        case=("issue_id",), activity="to_string", timestamp="created_date", resource="author_key", field="field",
        old_value="from_string", stage_fields=("status",),
        signature=("issue_id", "changelog_id", "field", "to_string", "created_date"),
    ),
    Preset(
        name="zendesk-audits", system="Zendesk", shape="transition", nested="zendesk",
        description="Ticket audits (audits[].events[]): status Create/Change events become events.",
        case=("ticket_id",), activity="value", timestamp="audit_created_at", resource="author_id",
        field="field_name", old_value="previous_value", stage_fields=("status",),
        signature=("ticket_id", "field_name", "previous_value", "value"),
    ),
    Preset(
        name="servicenow-audit", system="ServiceNow", shape="transition",
        description="sys_audit export: 'state' changes become events (values are choice numbers unless mapped "
                    "with a stage lookup).",
        case=("documentkey",), activity="newvalue", timestamp="sys_created_on", resource="user", field="fieldname",
        old_value="oldvalue", stage_fields=("state",),
        signature=("documentkey", "fieldname", "newvalue", "sys_created_on"),
        history_note="ServiceNow state values are choice numbers (incident: 1 New, 2 In Progress, 3 On Hold, "
                     "6 Resolved, 7 Closed, 8 Canceled; labels vary by table): pass a stage lookup from sys_choice",
    ),
)

#: every preset by name
PRESETS: dict[str, Preset] = {p.name: p for p in _PRESET_LIST}
_ALIASES = {"sf-opportunity-history": "salesforce-opportunity-history", "sf-field-history": "salesforce-field-history",
            "hubspot-export": "hubspot-deals", "jira-dc-history": "jira-issue-history"}


def list_presets() -> list[Preset]:
    """All presets, in a stable order (as ``processmining convert --list-presets`` prints them)."""
    return list(_PRESET_LIST)


def get_preset(name: str) -> Preset:
    """The preset called ``name`` (aliases from CRM_EXPORTS.md accepted), or :class:`IngestError`."""
    key = _ALIASES.get(name.strip().lower(), name.strip().lower())
    if key not in PRESETS:
        raise IngestError(f"unknown preset {name!r}; known presets: {', '.join(PRESETS)}")
    return PRESETS[key]


def detect_preset(columns: list[str]) -> Preset | None:
    """The preset whose signature columns are all present (most specific first), else None."""
    import re

    have = {c.strip().lower() for c in columns}
    for preset in sorted(_PRESET_LIST, key=lambda p: -len(p.signature)):
        if preset.signature and set(preset.signature) <= have:
            if preset.shape == "wide" and not any(re.match(preset.wide_pattern or "", c) for c in columns):
                continue
            return preset
    return None


# ------------------------------------------------------------------ analysis defaults per layout
#: analysis settings that suit each export layout (what a pipeline's stages and targets are)
PRESET_ANALYSIS_DEFAULTS: dict[str, dict[str, object]] = {
    "salesforce-field-history": {
        "stages": ["Prospecting", "Qualification", "Needs Analysis", "Proposal/Price Quote",
                   "Discount Approval", "Negotiation/Review", "Closed Won", "Order Booked"],
        "lost": "Closed Lost", "ends": ["Closed Won", "Closed Lost", "Order Booked"], "idle": "60d",
        "slas": "Prospecting->Proposal/Price Quote<=30d",
    },
    "hubspot-deals": {
        "stages": ["Appointment Scheduled", "Qualified To Buy", "Presentation Scheduled",
                   "Decision Maker Bought-In", "Contract Sent", "Closed Won"],
        "lost": "Closed Lost", "ends": ["Closed Won", "Closed Lost"], "idle": "60d",
        "slas": "Appointment Scheduled->Contract Sent<=60d",
    },
    "jira-changelog": {
        "stages": ["Open", "1st Line Support", "2nd Line Support", "3rd Line Support", "Resolved", "Closed"],
        "lost": None, "ends": ["Closed"], "idle": "30d",
        "slas": "Open->1st Line Support<=4h\nOpen->Resolved<=5d if priority=High",
        "ping_pong_ignore": ["Waiting for Customer"],
    },
}

#: the bundled reference model (``bpmn_models/``) written for each export layout
PRESET_MODELS: dict[str, str] = {
    "salesforce-field-history": "lead_to_order.bpmn",
    "salesforce-opportunity-history": "opportunity_pipeline.bpmn",
    "jira-changelog": "it_support_ticket.bpmn",
}


def analysis_defaults(preset: str | None) -> dict[str, object]:
    """Stage order, lost/end stages, idle limit, SLA targets and ping-pong exceptions for ``preset`` ({} if none)."""
    return dict(PRESET_ANALYSIS_DEFAULTS.get(preset or "", {}))


def reference_model(preset: str | None) -> str | None:
    """File name of the bundled reference model written for ``preset`` (None if none)."""
    return PRESET_MODELS.get(preset or "")
