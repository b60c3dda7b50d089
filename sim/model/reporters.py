"""The model's weekly chain reporters: one declaration gives each its name, unit and meaning.

The DataCollector, `MODEL_REPORTERS` (the model frame's columns, in order), the units of the
sweep outcomes built on them (`sim.studies.experiments`), the report's labels and the ODD's
reporter table (`make docs`) all read it from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.model.accounts import COST_ITEMS


@dataclass(frozen=True)
class Reporter:
    """A column of the model frame: one value per simulated week for the whole chain."""

    name: str
    unit: str
    meaning: str
    label: str = ""  # plain-English title for charts and tables (default: from the name)

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()


_COST_MEANINGS = {
    "cost_of_goods": "cost of goods sold: (1 - gross margin) x revenue",
    "wages": "pay of staff (including this week's quitters) and supervisors",
    "hiring_training": "hiring and training cost of this week's hires",
    "coaching": "supervisors' coaching time at their hourly rate",
    "hr_programmes": "engagement programme spend (paid at each round)",
    "cost_to_serve": "direct cost of every contact, repeats included",
    "acquisition": "cost of customers won by paid marketing",
    "layoffs": "severance of this week's layoffs",
    "customer_programme": "marketing-led customer engagement programme",
    "recognition": "front-line recognition",
    "fixed_costs": "rent and overheads",
}

REPORTERS: tuple[Reporter, ...] = (
    Reporter("week", "week", "index of the simulated week (0 = the first)"),
    Reporter("active_customers", "customers", "customers at the end of the week"),
    Reporter("acquired_customers", "customers/week", "customers won this week (marketing "
             "and referrals)"),
    Reporter("churned_customers", "customers/week", "customers lost this week"),
    Reporter("churn_rate_annual_pct", "%/year", "this week's churn / customers at the start "
             "of the week, x 52 x 100", "Customer churn"),
    Reporter("revenue", "$/week", "revenue of the week (all visits' spend)", "Revenue"),
    *(Reporter(item, "$/week", _COST_MEANINGS[item]) for item in COST_ITEMS),
    Reporter("total_costs", "$/week", "sum of every cost item"),
    Reporter("profit", "$/week", "revenue - total costs", "Profit"),
    Reporter("headcount", "employees", "staff at the end of the week"),
    Reporter("hires", "employees/week", "hires this week"),
    Reporter("quits", "employees/week", "voluntary quits this week"),
    Reporter("laid_off", "employees/week", "employees laid off this week"),
    Reporter("turnover_rate_annual_pct", "%/year", "this week's quits / (staff + quits), x 52 x "
             "100", "Employee turnover"),
    Reporter("employee_engagement", "0-1", "mean engagement of the staff",
             "Employee engagement"),
    Reporter("employees_engaged_share", "share", "share of staff engaged (engagement >= 0.61)"),
    Reporter("employees_not_engaged_share", "share", "share of staff neither engaged nor "
             "actively disengaged"),
    Reporter("employees_actively_disengaged_share", "share", "share of staff actively "
             "disengaged (engagement < 0.49)"),
    Reporter("customers_fully_engaged_share", "share", "share of customers fully engaged "
             "(emotional engagement >= 0.70)"),
    Reporter("customers_engaged_share", "share", "share of customers engaged (0.55-0.70)"),
    Reporter("customers_not_engaged_share", "share", "share of customers not engaged "
             "(0.40-0.55)"),
    Reporter("customers_actively_disengaged_share", "share", "share of customers actively "
             "disengaged (below 0.40)"),
    Reporter("customer_engagement", "0-1", "mean emotional engagement of the customers (mean "
             "of confidence, integrity, pride, passion)", "Customer engagement"),
    Reporter("rational_satisfaction", "0-1", "mean rational satisfaction of the customers"),
    Reporter("confidence", "0-1", "customers' mean confidence"),
    Reporter("integrity", "0-1", "customers' mean integrity"),
    Reporter("pride", "0-1", "customers' mean pride"),
    Reporter("passion", "0-1", "customers' mean passion"),
    Reporter("service_quality", "0-1", "mean quality of this week's encounters"),
    Reporter("workload", "x capacity", "work pressure (hours the standard requires / hours "
             "available), stores weighted by contacts"),
    Reporter("service_standard", "x policy minutes", "service standard (time given per "
             "contact) as a ratio to the policy's design minutes, mean over stores; 1 = no "
             "erosion"),
    Reporter("contacts", "contacts/week", "visits plus repeat contacts for last week's "
             "unresolved problems"),
    Reporter("repeat_contacts", "contacts/week", "problems left unresolved this week (they "
             "return next week)"),
    Reporter("anxiety", "0-1", "customers' crisis anxiety (before transparency reassures)"),
    Reporter("crisis_severity", "0-1", "this week's crisis severity (0 outside a crisis)"),
)

MODEL_REPORTERS: tuple[str, ...] = tuple(r.name for r in REPORTERS)
REPORTER_BY_NAME: dict[str, Reporter] = {r.name: r for r in REPORTERS}

ODD_TABLE_START = "<!-- reporters:start (generated by `make docs`) -->"
ODD_TABLE_END = "<!-- reporters:end -->"


def markdown_table() -> str:
    """The ODD's reporter table: one row per column of the model frame."""
    lines = ["| reporter | unit | meaning |", "|---|---|---|"]
    lines += [f"| `{r.name}` | {r.unit} | {r.meaning} |" for r in REPORTERS]
    return "\n".join(lines)
