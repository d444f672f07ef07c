from .models import Organization


def organizations(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "switcher_organizations": Organization.objects.for_user(user).only("id", "name"),
        "current_organization": getattr(request, "organization", None),
    }
