"""Similar submissions (``grading/similarity.py``): tokens that ignore names and comments, winnowed fingerprints."""
from __future__ import annotations

import pytest

from workshop_utils.grading.similarity import fingerprints, similar_pairs, tokens


def test_tokens_and_similarity_ignore_names_comments_and_the_template():
    a = "import numpy as np\n# mine\nx = np.arange(10)\nfor i in range(3):\n    print(x[i] * 2, 'a')\n" * 3
    b = "import numpy as np\nvalues = np.arange(99)  # other\nfor k in range(7):\n    print(values[k] * 5, 'b')\n" * 3
    assert [t for t, _ in tokens(a)] == [t for t, _ in tokens(b.replace("values", "x"))]
    assert tokens("%matplotlib inline\nx = 1") == [("V", 2), ("=", 2), ("N", 2)]
    other = "def f(q):\n    return sorted(q, key=len)[::-1]\n" * 4
    pairs = similar_pairs({"a": [a], "b": [b], "c": [other]}, min_shared=2)
    assert [(p.a, p.b) for p in pairs] == [("a", "b")] and pairs[0].lines_a
    assert similar_pairs({"a": [a], "b": [b]}, template=[a], min_shared=2) == []
    assert fingerprints(["x = 1"]) == {}
    with pytest.raises(ValueError):
        similar_pairs({"a": [a]}, threshold=0)
