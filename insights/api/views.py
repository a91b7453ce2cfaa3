from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from insights.api.serializers import ClickResultSerializer, ClickSerializer
from insights.middleware import session_id_known
from insights.services import click_record


class ClickAnonThrottle(AnonRateThrottle):
    scope = "clicks"


class ClickView(APIView):
    """An app reports that a shopper opened a search result. Unknown ids are accepted and ignored."""

    permission_classes = [AllowAny]
    throttle_classes = [ClickAnonThrottle]

    @extend_schema(request=ClickSerializer, responses={202: ClickResultSerializer})
    def post(self, request: Request) -> Response:
        click = ClickSerializer(data=request.data)
        click.is_valid(raise_exception=True)
        data = click.validated_data
        session_id = session_id_known(request)
        recorded = click_record(
            event_id=data["search_id"],
            product_id=data["product"],
            rank=data["rank"],
            session_id=session_id,
            rate_key=session_id or request.META.get("REMOTE_ADDR", ""),
        )
        return Response({"recorded": recorded}, status=status.HTTP_202_ACCEPTED)
