from django import template

from search.autofit import autofit_state
from search.fitting import ServedFit, fit_served_get
from search.graph import GraphUnavailable, graph_store
from search.health import GraphHealth, graph_health

register = template.Library()


@register.simple_tag
def graph_health_get() -> GraphHealth:
    return graph_health()


@register.simple_tag
def projection_served_get() -> ServedFit | None:
    """The served fit and the catalog's drift from it; None while Neo4j is down (the table says so)."""
    try:
        version = graph_store().serving_model()
    except GraphUnavailable:
        return None
    return fit_served_get(version=version)


@register.simple_tag
def autofit_state_get() -> str:
    return autofit_state()
