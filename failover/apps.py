from django.apps import AppConfig


class FailoverConfig(AppConfig):
    name = "failover"
    verbose_name = "Failover"

    def ready(self):
        from certificates.selectors import register_paired_site_name
        from portal.alerts import register_alert_kinds, register_alert_link
        from portal.metrics import register_collector
        from portal.panels import PanelSlot, register_panel

        from .alerts import AlertKind
        from .metrics import PairCollector
        from .models import Pair
        from .notify import pair_labels, pair_summary
        from .probing.locations import appliance_location_panel
        from .selectors import pair_site_name_of, pair_state_counts, pairs_needing_attention

        register_alert_kinds(AlertKind)
        # A pair's stored best-practice findings follow its members' inventory, addresses and served certificates.
        from appliances.changes import register_appliance_listener

        from .services.advice import advice_refresh

        register_appliance_listener(advice_refresh)
        register_collector("failover", PairCollector())
        # An alert's scope is the pair it is about (Pair.alerts is the query side).
        register_alert_link("pair", slot="scope", model=Pair, labels=pair_labels, summary=pair_summary)
        # A paired appliance's certificate is checked against its pair's site name.
        register_paired_site_name(pair_site_name_of)

        def pair_states(request) -> dict:
            # Pair states, those needing attention first.
            user, organization = request.user, request.organization
            return {"counts": pair_state_counts(user=user, organization=organization),
                    "attention": pairs_needing_attention(user=user, organization=organization)}

        register_panel(PanelSlot.DASHBOARD, template="failover/status/dashboard_panel.html", data=pair_states, order=20)

        from .maintenance_selectors import maintenance_window_silencer, windows_current_for_user

        def maintenance_windows(request) -> dict:
            return {"windows": windows_current_for_user(request.user, organization=request.organization)}

        register_panel(PanelSlot.DASHBOARD, template="failover/maintenance/dashboard_panel.html",
                       data=maintenance_windows, order=25)
        # Maintenance windows mute the alerts they cover (the portal records the reason as the alert's suppression).
        from portal.alerts import register_silencer

        register_silencer("failover-maintenance-window", maintenance_window_silencer)

        from portal.permissions import has_role

        from .services.locations import LOCATION_ROLES

        def appliance_locations(request, *, appliance) -> dict:
            return {**appliance_location_panel(appliance),
                    "can_configure": has_role(request.user, appliance.organization_id, LOCATION_ROLES["configure"])}

        register_panel(PanelSlot.APPLIANCE_DETAIL, template="failover/status/appliance_locations_panel.html",
                       data=appliance_locations, order=5)
