from pathlib import Path

from piccolo.conf.apps import AppConfig

from huijia_warmth.tables import (
    WarmthBeneficiary,
    WarmthCampaign,
    WarmthCampaignBudget,
    WarmthCampaignGroup,
    WarmthFollowup,
    WarmthReceiptFile,
    WarmthStock,
)

APP_CONFIG = AppConfig(
    app_name="warmth",
    migrations_folder_path=str(Path(__file__).resolve().parent / "migrations"),
    table_classes=[WarmthCampaign, WarmthCampaignGroup, WarmthCampaignBudget, WarmthBeneficiary, WarmthStock,
                   WarmthFollowup, WarmthReceiptFile],
    migration_dependencies=["core.tenancy.piccolo_app"],
    commands=[],
)
