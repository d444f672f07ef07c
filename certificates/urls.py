
app_name = "certificates"

urlpatterns: list = [
    # Routes arrive with the pair, probe, operation and alert views.
]
