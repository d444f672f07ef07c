
app_name = "failover"

urlpatterns: list = [
    # Routes arrive with the pair, probe, operation and alert views.
]
