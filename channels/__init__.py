"""Rasa input channels for Rapport: Telegram, Slack, Twilio (SMS/WhatsApp) and a retry-safe REST API.

Each is a thin subclass of Rasa's own connector that adds what a health-data bot needs on the open
internet: signed or secret-checked webhooks, no outbound calls at start-up, numbered options where a
provider has no buttons, private conversations only. Configuration comes from credentials.yml,
whose `${VARS}` these classes expand themselves (see `channels.common.expand_env`), so a channel
whose variables are unset is simply off and one credentials.yml serves development and production.
"""
from bot.config import load_dotenv_file
from bot.logs import configure as _configure_logs

load_dotenv_file()  # a plain `rasa run` reads credentials.yml's ${VARS} from `.env` too
_configure_logs()  # Rapport's own loggers write JSON lines (docs/operations.md)
