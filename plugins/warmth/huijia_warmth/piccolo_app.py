from pathlib import Path

from piccolo.conf.apps import AppConfig

from huijia_warmth.tables import WarmthCampaign, WarmthCampaignBudget, WarmthCampaignGroup

APP_CONFIG = AppConfig(
    app_name="warmth",
    migrations_folder_path=str(Path(__file__).resolve().parent / "migrations"),
    table_classes=[WarmthCampaign, WarmthCampaignGroup, WarmthCampaignBudget],
    migration_dependencies=["core.tenancy.piccolo_app"],
    commands=[],
)
