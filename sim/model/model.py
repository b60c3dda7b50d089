"""LoyaltyModel: stores, supervisors, employees and customers on Mesa, one step a week.

The week (docs/ODD.md section 3) is `LoyaltyModel.step`: each process is a function of its own
module that takes the state and the parameters and returns the week's flows as a frozen record:
events -> crisis climate (`climate`) -> staffing (`staffing`) -> service encounters (`service`)
-> appraisal, spend and churn, acquisition, census (`customers`) -> employee development
(`development`) -> accounts and reporters (`accounts`, `reporters`). Set-up is `setup`.
"""

from __future__ import annotations

import inspect
import math
from collections import defaultdict
from typing import Any

import mesa
import numpy as np
import pandas as pd

from sim.model import customers, development, rules, service, setup, staffing
from sim.model.accounts import COST_ITEMS, STORE_COLUMNS, Accounts, StaffFlows, account
from sim.model.agents import Store, Supervisor
from sim.model.checks import describe_allowed, unknown_parameter_message
from sim.model.climate import Climate
from sim.model.events import Crisis, Event, Layoff, PolicyChange, parse_event
from sim.model.parameters import PARAMETER_NAMES, Parameters, parameter_fields
from sim.model.reporters import MODEL_REPORTERS
from sim.model.service import SERVICE_POLICY_SPECS
from sim.model.setup import CUSTOMER_COLUMNS, EMPLOYEE_COLUMNS, SPIN_UP_WEEKS

__all__ = ["COST_ITEMS", "CUSTOMER_COLUMNS", "EMPLOYEE_COLUMNS", "MODEL_REPORTERS",
           "SERVICE_POLICY_SPECS", "SPIN_UP_WEEKS", "STORE_COLUMNS", "LoyaltyModel"]

# Running totals over the whole run, kept beside the weekly reporters.
TOTALS = {"customers_acquired_total": "acquired_customers",
          "customers_churned_total": "churned_customers", "hires_total": "hires",
          "quits_total": "quits", "laid_off_total": "laid_off"}


class LoyaltyModel(mesa.Model):
    """A chain of stores whose employees' engagement shapes customers' attachment and spend.

    Keyword arguments only; every parameter has a default (listed below with its unit and in
    docs/ODD.md). `rng` is an int seed; `events` is a list of timed policy changes, crises and
    layoffs (`sim.model.events`); `chain` a chain's own stores (`setup.StoreProfile`).
    """

    def __init__(self, *, rng: int | None = None, events: list | tuple = (),
                 chain: setup.StoreProfile | None = None, **parameters: Any):
        unknown = [k for k in parameters if k not in PARAMETER_NAMES]
        if unknown:
            raise ValueError(unknown_parameter_message(unknown[0]))
        if isinstance(rng, str):  # text boxes hand seeds over as strings
            if not rng.strip().isdigit():
                raise ValueError(f"rng = {rng!r} is not allowed: expected a whole number >= 0 "
                                 "(the seed)")
            rng = int(rng)
        if chain is not None:  # the chain's own stores decide how many there are
            if parameters.get("n_stores", chain.n_stores) != chain.n_stores:
                raise ValueError(f"n_stores = {parameters['n_stores']} is not allowed with a "
                                 f"chain of {chain.n_stores} stores (expected "
                                 f"{chain.n_stores} or leave it out)")
            parameters = {**parameters, "n_stores": chain.n_stores}
        super().__init__(rng=rng)
        self.params = Parameters(**parameters)
        # Independent streams, so that a policy change in one process leaves the others' draws
        # alone (common random numbers across arms).
        streams = np.random.SeedSequence(int(self.rng.integers(2**63))).spawn(4)
        self._rng_setup, self._rng_staff, self._rng_customers, self._rng_events = (
            np.random.default_rng(s) for s in streams)

        self._events: dict[int, list[Event]] = defaultdict(list)
        for spec in events:
            self.schedule(spec)
        self.climate = Climate()
        self.expectation_lift = 0.0  # what customers expect above their own standard

        p = self.params
        self.chain = (setup.draw_chain(p, self._rng_setup) if chain is None
                      else setup.profile_chain(p, chain))
        self.store_ids = chain.ids if chain is not None else None
        n = self.n_stores = self.chain.n_stores
        self.planned_staff = self.chain.planned_staff
        self.initial_store_customers = self.chain.initial_customers
        self.staff_plan = self.planned_staff.astype(float)
        self.standard_minutes = np.full(n, SERVICE_POLICY_SPECS[p.service_policy]["minutes"])
        side = math.ceil(math.sqrt(n))
        self.store_positions = [(i % side, i // side) for i in range(n)]
        self.stores = [Store(self, i) for i in range(n)]
        self.supervisors = [Supervisor(self, s) for s in self.stores]
        self.store_state = {c: np.zeros(n) for c in STORE_COLUMNS}
        self.store_state["supervisor_quality"] = self.supervisor_quality.copy()

        self.employees = setup.set_up_staff(p, self.chain, self.standard_minutes,
                                            self._rng_setup, self._rng_staff)
        self.initial_headcount = self.employees.size
        self._repeat_contacts = setup.planned_repeat_contacts(p, self.chain)
        self.customers = setup.set_up_customers(p, self.chain, self.employees,
                                                self.standard_minutes, self._rng_setup)
        self.initial_customers = self.customers.size
        self._census = customers.take_census(self.customers, n)
        self._store_history: list[np.ndarray] = []
        for name in MODEL_REPORTERS:
            if name not in ("week", "crisis_severity", "anxiety"):
                setattr(self, name, 0.0)
        for total in TOTALS:
            setattr(self, total, 0)
        self.datacollector = mesa.DataCollector(
            model_reporters={name: name for name in MODEL_REPORTERS})
        self.running = True

    # ------------------------------------------------------------------ the week
    def step(self) -> None:
        """Simulate one week (ODD section 3) and record its reporters."""
        week, n = self.week, self.n_stores
        laid_off = self._apply_events(week)
        p = self.params  # as the events left them
        self.climate.advance(week, p)
        severity = self.climate.severity
        self.customers.compact()
        self.employees.compact(0.25)

        if week >= 0 and staffing.is_review_week(week, p):
            self.staff_plan = staffing.replan(self.planned_staff, self.initial_store_customers,
                                              self.customers, p)
        hiring = staffing.hire(self.employees, p, self.staff_plan, week, self._rng_staff)

        served = service.serve(self.employees, self.customers, p, self.standard_minutes,
                               self._repeat_contacts, severity, self._rng_customers)
        self.standard_minutes = served.standard_minutes
        met = service.customer_climate(self.customers, served)  # before newcomers join
        self._repeat_contacts = served.repeat
        self.expectation_lift = customers.adapt_expectation(self.expectation_lift, p)
        customers.appraise(self.customers, served, p, self.expectation_lift,
                           customers.programme_pull(p), severity)
        purchases = customers.spend_and_churn(self.customers, served, p,
                                              self.climate.customer_anxiety(p), week,
                                              self._rng_customers)
        acquisition = customers.acquire(self.customers, self._census, p,
                                        self.initial_store_customers, self.chain.local_expectation,
                                        severity, week, self._rng_customers)
        start_customers = self._census.customers  # last week's census: this week's base
        self._census = customers.take_census(self.customers, n)

        grown = development.develop(self.employees, p, self.supervisor_quality,
                                    served.pressure, self.climate.staff_stress(p), severity,
                                    week, self._rng_staff, met)

        books = account(p, self.employees, StaffFlows(hiring.hires, grown.quits, laid_off,
                                                      grown.hr_spend),
                        served, purchases, acquisition, self._census, start_customers,
                        self.store_size, self.supervisor_quality, self.standard_minutes,
                        SERVICE_POLICY_SPECS[p.service_policy]["minutes"])
        self._record(books)
        self.datacollector.collect(self)

    def _record(self, books: Accounts) -> None:
        """Keep the week's store row and set the chain's reporters and running totals."""
        self.store_state = books.stores
        self._store_history.append(np.column_stack([books.stores[k] for k in STORE_COLUMNS]))
        for name, value in books.chain.items():
            setattr(self, name, value)
        for total, weekly in TOTALS.items():
            setattr(self, total, getattr(self, total) + books.chain[weekly])

    # ------------------------------------------------------------------ events
    @property
    def week(self) -> int:
        """Index of the last simulated week (0 = the first); -1 before any step."""
        return self.steps - 1

    def schedule(self, event: Event | dict) -> Event:
        """Add a timed event; its week must not be in the past."""
        event = parse_event(event)
        next_week = self.steps
        if event.week < next_week:
            raise ValueError(
                f"event week = {event.week} is in the past: the model is at week {next_week} "
                f"(expected a week >= {next_week})")
        self._events[event.week].append(event)
        return event

    def _apply_events(self, week: int) -> np.ndarray:
        """Apply the events due this week; returns the staff laid off per store."""
        laid_off = np.zeros(self.n_stores)
        for event in self._events.pop(week, []):
            if isinstance(event, PolicyChange):
                old = self.params
                self.params = old.replace(**event.changes)
                if self.params.service_policy != old.service_policy:
                    # A new policy resets the service design time; erosion then starts afresh.
                    self.standard_minutes[:] = SERVICE_POLICY_SPECS[
                        self.params.service_policy]["minutes"]
            elif isinstance(event, Crisis):
                self.climate.start_crisis(week, event.duration, event.severity)
            elif isinstance(event, Layoff):
                laid_off += self._lay_off(week, event.share)
        return laid_off

    def _lay_off(self, week: int, share: float) -> np.ndarray:
        """A round of layoffs: staff leave, the headcount target falls, survivors are shaken
        and customers, who watch how staff are treated, think less of the company."""
        p = self.params
        cushion = rules.transparency_cushion(p.transparency, p.transparency_cushion)
        gone = staffing.lay_off(self.employees, share, cushion, week, self.n_stores,
                                self._rng_events)
        if not gone.any():
            return gone
        self.params = p.replace(staffing_level=p.staffing_level * (1.0 - share))
        self.climate.layoff_stress += rules.LAYOFF_STRESS * cushion
        customers.see_layoffs(self.customers, self.climate.layoff_damage(p))
        return gone

    # ------------------------------------------------------------------ the chain
    @property
    def store_size(self) -> np.ndarray:
        """Each store's size relative to the chain's average."""
        return self.chain.size

    @property
    def supervisor_quality(self) -> np.ndarray:
        """Each store's supervisor quality (0-1)."""
        return self.chain.supervisor_quality

    @property
    def crisis_severity(self) -> float:
        """This week's crisis severity (0 outside a crisis)."""
        return self.climate.severity

    @property
    def anxiety(self) -> float:
        """Customers' crisis anxiety (0-1)."""
        return self.climate.anxiety

    # ------------------------------------------------------------------ read-outs
    def model_frame(self) -> pd.DataFrame:
        """One row per simulated week with every chain-level reporter."""
        return self.datacollector.get_model_vars_dataframe().reset_index(drop=True)

    def stores_frame(self) -> pd.DataFrame:
        """One row per store and week: the between-store table (Human Sigma)."""
        if not self._store_history:
            return pd.DataFrame(columns=["week", "store", *STORE_COLUMNS])
        data = np.stack(self._store_history)  # weeks x stores x columns
        weeks, n_s, _ = data.shape
        df = pd.DataFrame(data.reshape(weeks * n_s, -1), columns=list(STORE_COLUMNS))
        df.insert(0, "store", np.tile(np.arange(n_s), weeks))
        df.insert(0, "week", np.repeat(np.arange(weeks), n_s))
        for col in ("headcount", "customers", "churned", "quits"):
            df[col] = df[col].astype(np.int64)
        return df

    def employees_frame(self, include_departed: bool = False) -> pd.DataFrame:
        """Employees (one row each, indexed by stable id)."""
        return self.employees.frame(include_departed)

    def customers_frame(self, include_departed: bool = False) -> pd.DataFrame:
        """Customers (one row each, indexed by stable id) with their emotional engagement."""
        df = self.customers.frame(include_departed)
        df["engagement"] = rules.customer_engagement(
            df["confidence"], df["integrity"], df["pride"], df["passion"])
        return df

    def employee(self, employee_id: int) -> dict:
        """One employee's state by stable id, whether still employed or departed.

        Raises:
            KeyError: no employee ever had this id.
        """
        return self.employees.lookup(employee_id)

    def customer(self, customer_id: int) -> dict:
        """One customer's state by stable id, whether still a customer or churned.

        Raises:
            KeyError: no customer ever had this id.
        """
        return self.customers.lookup(customer_id)

    def run(self, weeks: int) -> LoyaltyModel:
        """Advance the model by `weeks` weeks; returns the model (for chaining)."""
        for _ in range(int(weeks)):
            self.step()
        return self

    def run_model(self, weeks: int) -> LoyaltyModel:
        """Advance the model by `weeks` weeks, exactly as `run`; returns the model.

        Mesa's own `run_model` steps while `running` is true, and this model has no horizon of
        its own (it never clears `running`), so the number of weeks is required.

        Args:
            weeks: how many weeks to simulate from the current week.
        """
        return self.run(weeks)


def _signature() -> inspect.Signature:
    params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
              inspect.Parameter("rng", inspect.Parameter.KEYWORD_ONLY, default=None),
              inspect.Parameter("events", inspect.Parameter.KEYWORD_ONLY, default=()),
              inspect.Parameter("chain", inspect.Parameter.KEYWORD_ONLY, default=None)]
    for f in parameter_fields():
        params.append(inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY,
                                        default=f.default))
    return inspect.Signature(params)


def _docstring() -> str:
    lines = [LoyaltyModel.__doc__ or "", "", "Args:",
             "    rng: int seed of the model's random numbers (None: fresh entropy).",
             "    events: timed PolicyChange / Crisis / Layoff events, or their dict form.",
             "    chain: a chain's own stores (`sim.model.setup.StoreProfile`, e.g. from a "
             "chain file); None: stores drawn from the chain-level parameters."]
    for f in parameter_fields():
        allowed = f"; {describe_allowed(f.name)}" if f.metadata["choices"] else ""
        lines.append(f"    {f.name}: {f.metadata['doc']} [{f.metadata['unit']}; default "
                     f"{f.default!r}{allowed}]")
    return "\n".join(lines)


LoyaltyModel.__init__.__signature__ = _signature()  # type: ignore[attr-defined]
LoyaltyModel.__doc__ = _docstring()
LoyaltyModel.__init__.__doc__ = (
    "Set up the chain: stores, supervisors, two years of staff turnover, then customers near "
    "their settled attachment. See the class docstring for every argument.")
