"""The deploy tests import their support modules from beside them."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # deploy_support, monitoring_support
