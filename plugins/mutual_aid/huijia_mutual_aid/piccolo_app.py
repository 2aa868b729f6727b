from pathlib import Path

from piccolo.conf.apps import AppConfig

from huijia_mutual_aid.tables import (
    MutualAidClaim,
    MutualAidClaimDocument,
    MutualAidEnrolment,
    MutualAidPremium,
    MutualAidSettlement,
    MutualAidStayFile,
)

APP_CONFIG = AppConfig(
    app_name="mutual_aid",
    migrations_folder_path=str(Path(__file__).resolve().parent / "migrations"),
    table_classes=[MutualAidEnrolment, MutualAidPremium, MutualAidClaim, MutualAidClaimDocument, MutualAidSettlement,
                   MutualAidStayFile],
    migration_dependencies=["core.tenancy.piccolo_app"],
    commands=[],
)
