from portal.forms import TenantModelForm

from ..models import BackupPolicy


class BackupPolicyForm(TenantModelForm):
    class Meta:
        model = BackupPolicy
        fields = ["organization", "scheduled", "interval_hours", "keep_last", "keep_weekly_weeks", "include_logged_data",
                  "max_backup_mb"]
