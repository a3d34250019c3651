"""The console's pure parts: layered graph layout, and Clarify / Model Monitor reports read
from documents shaped as those jobs write them."""

from __future__ import annotations

from sagebox.edge.ui.graph import Edge, Node, distance_layers, layout, longest_path_layers
from sagebox.edge.ui.reports import (
    ANALYSIS,
    STATISTICS,
    VIOLATIONS,
    bar_chart,
    report_of,
)


def test_longest_path_layers_put_every_step_right_of_what_it_waits_for() -> None:
    edges = [Edge("a", "b"), Edge("b", "c"), Edge("a", "c"), Edge("d", "c")]
    assert longest_path_layers(["a", "b", "c", "d"], edges) == {"a": 0, "b": 1, "c": 2, "d": 0}
    # A cycle (which no valid pipeline has) still gets columns, right of what is known.
    looped = longest_path_layers(["x", "y"], [Edge("x", "y"), Edge("y", "x")])
    assert set(looped) == {"x", "y"}


def test_distance_layers_go_left_for_ascendants_and_right_for_descendants() -> None:
    edges = [Edge("data", "job"), Edge("job", "model"), Edge("model", "endpoint")]
    layers = distance_layers("model", ["data", "job", "model", "endpoint", "alone"], edges)
    assert layers == {"data": -2, "job": -1, "model": 0, "endpoint": 1, "alone": 0}


def test_layout_places_columns_left_to_right_and_draws_only_known_edges() -> None:
    nodes = [Node(n, n) for n in ("a", "b", "c")]
    edges = [Edge("a", "b", "if"), Edge("a", "c", "else"), Edge("a", "ghost")]
    drawing = layout(nodes, edges, {"a": 0, "b": 1, "c": 1})
    by_id = {n.id: n for n in drawing.nodes}
    assert by_id["a"].x < by_id["b"].x == by_id["c"].x
    assert by_id["b"].y != by_id["c"].y
    assert [(e.source, e.target) for e in drawing.edges] == [("a", "b"), ("a", "c")]
    assert all(e.path.startswith("M") for e in drawing.edges)
    assert drawing.columns == 2 and drawing.width > 2 * 200


def test_a_clarify_report_has_bias_tables_charts_and_shap_values_largest_first() -> None:
    analysis = {
        "pre_training_bias_metrics": {
            "label": "Target",
            "label_value_or_threshold": "1",
            "facets": {"Gender": [{"value_or_threshold": "1", "metrics": [
                {"name": "CI", "description": "Class Imbalance (CI)", "value": 0.1},
                {"name": "DPL", "description": "Difference in Positive Proportions", "value": -0.25},
                {"name": "CDDL", "description": "Conditional Demographic Disparity", "value": None, "error": "no group"},
            ]}]},
        },
        "explanations": {"kernel_shap": {"label0": {"global_shap_values": {"Age": 0.1, "Income": 0.4}, "expected_value": 0.3}}},
    }  # fmt: skip
    report = report_of({ANALYSIS: analysis})
    assert report is not None and report.kind == "Clarify"
    bias, shap = report.sections
    assert [row[2] for row in bias["rows"]] == ["CI", "DPL", "CDDL"]
    assert bias["rows"][2][5] == "no group"
    assert shap["rows"] == [["Income", 0.4], ["Age", 0.1]]
    chart = report.charts[0]
    assert [b.label for b in chart.bars] == ["CI", "DPL"]  # no bar for a metric without a value
    dpl = chart.bars[1]
    assert dpl.negative and dpl.x + dpl.width == chart.zero  # grows left from the zero line


def test_a_model_monitor_report_has_statistics_violations_and_quality_metrics() -> None:
    statistics = {
        "dataset": {"item_count": 3},
        "features": [
            {"name": "age", "inferred_type": "Integral", "numerical_statistics": {
                "common": {"num_present": 3, "num_missing": 0}, "mean": 2.0, "min": 1.0, "max": 3.0, "std_dev": 0.8,
                "distribution": {"kll": {"buckets": [{"lower_bound": 1, "upper_bound": 2, "count": 1},
                                                      {"lower_bound": 2, "upper_bound": 3, "count": 2}]}}}},
            {"name": "city", "inferred_type": "String", "string_statistics": {
                "common": {"num_present": 2, "num_missing": 1}, "distinct_count": 2,
                "distribution": {"categorical": {"buckets": [{"value": "a", "count": 1}, {"value": "b", "count": 1}]}}}},
        ],
        "regression_metrics": {"mae": {"value": 0.5, "standard_deviation": 0.1}, "r2": {"value": 0.9}},
    }  # fmt: skip
    violations = {
        "violations": [
            {"feature_name": "age", "constraint_check_type": "data_type_check", "description": "d"}
        ]
    }
    report = report_of({STATISTICS: statistics, VIOLATIONS: violations})
    assert report is not None and report.kind == "Model Monitor" and report.item_count == 3
    age, city = report.features
    assert (age["present"], age["mean"], len(age["histogram"].rects)) == (3, 2.0, 2)
    assert (city["missing"], city["distinct"], len(city["histogram"].rects)) == (1, 2, 2)
    titles = [s["title"] for s in report.sections]
    assert titles == ["Regression metrics", "Constraint violations (1)"]
    assert report.sections[1]["rows"] == [["age", "data_type_check", "d"]]
    assert report_of({"other.json": {}}) is None


def test_a_bar_chart_scales_to_the_largest_magnitude() -> None:
    chart = bar_chart("t", [("a", 1.0), ("b", 2.0), ("c", float("nan"))])
    assert [b.label for b in chart.bars] == ["a", "b"]
    assert chart.bars[1].width == 2 * chart.bars[0].width
