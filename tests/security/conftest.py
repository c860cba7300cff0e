"""The security suite builds apps with the journeys' harness (tests/legacy/app_harness.py)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "legacy"))
sys.path.insert(0, str(Path(__file__).parent))
