"""The deploy tests import deploy_support from beside them."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # deploy_support beside the tests
