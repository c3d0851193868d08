"""workshop_utils._moved: an old name keeps working one release, with a warning naming the new place."""
import sys
import types

import pytest

from workshop_utils import _moved


@pytest.fixture
def old_module():
    mod = types.ModuleType("workshop_utils._old_place_for_test")
    mod.__getattr__ = _moved.moved_names(mod.__name__, {"check_xy": "workshop_utils._checks",
                                                        "old_fail": "workshop_utils._checks:fail"})
    sys.modules[mod.__name__] = mod
    yield mod
    del sys.modules[mod.__name__]


def test_a_moved_name_is_the_new_object_with_a_deprecation_warning(old_module):
    from workshop_utils import _checks

    with pytest.warns(DeprecationWarning, match=r"_old_place_for_test\.check_xy has moved to workshop_utils\._checks"
                                                r"\.check_xy; the old name will be removed in workshop_utils 0\.2\.0"):
        assert old_module.check_xy is _checks.check_xy
    with pytest.warns(DeprecationWarning, match=r"old_fail has moved to workshop_utils\._checks\.fail"):
        assert old_module.old_fail is _checks.fail
    assert old_module.__getattr__.moves == {"check_xy": "workshop_utils._checks",
                                            "old_fail": "workshop_utils._checks:fail"}


def test_an_unknown_name_is_an_attribute_error(old_module):
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        old_module.nothing
    assert not hasattr(old_module, "nothing")
