from django.contrib.auth.backends import ModelBackend


class PlatformOperatorBackend(ModelBackend):
    """Platform operators hold every model permission, so the Django admin works for them without making
    them superusers. Sign-in itself is the ModelBackend's."""

    def has_perm(self, user_obj, perm, obj=None):
        if user_obj.is_active and getattr(user_obj, "is_platform_operator", False):
            return True
        return super().has_perm(user_obj, perm, obj)

    def has_module_perms(self, user_obj, app_label):
        if user_obj.is_active and getattr(user_obj, "is_platform_operator", False):
            return True
        return super().has_module_perms(user_obj, app_label)
