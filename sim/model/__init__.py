"""The simulation itself: parameters, events, populations, the weekly rules and `LoyaltyModel`.

Importing this package loads numpy, pandas and mesa only; the study layer (`sim.studies`), the
command line (`sim.cli`) and the browser view (`sim.ui`) build on it.
"""

from sim.model.model import (
    COST_ITEMS,
    CUSTOMER_COLUMNS,
    EMPLOYEE_COLUMNS,
    MODEL_REPORTERS,
    SERVICE_POLICY_SPECS,
    SPIN_UP_WEEKS,
    STORE_COLUMNS,
    LoyaltyModel,
)

__all__ = [
    "COST_ITEMS",
    "CUSTOMER_COLUMNS",
    "EMPLOYEE_COLUMNS",
    "MODEL_REPORTERS",
    "SERVICE_POLICY_SPECS",
    "SPIN_UP_WEEKS",
    "STORE_COLUMNS",
    "LoyaltyModel",
]
