from django import template

from search.health import GraphHealth, graph_health

register = template.Library()


@register.simple_tag
def graph_health_get() -> GraphHealth:
    return graph_health()
