"""Metrics of seed 002 §3.2 on hand-computed cases."""

import math

import numpy as np
import pytest

from ftm.metrics import (
    Detections,
    average_precision,
    box_iou,
    compression_rate,
    cosine_rankings,
    f_classification,
    f_detection,
    f_retrieval,
    match_detections,
    mean_average_precision,
    original_bytes,
    task_fidelity,
    top1_agreement,
    topk_overlap,
)
from ftm.metrics.classification import onehot_top1, topk_classes
from ftm.metrics.detection import detections_from_array


# ---- eq. 1 -----------------------------------------------------------------


def test_compression_rate_counts_the_original_as_float32():
    x = np.zeros((1, 2, 5, 5), dtype=np.float64)  # 50 elements = 200 float32 bytes
    assert original_bytes(x) == 200
    assert compression_rate(100, x) == 0.5
    assert compression_rate(100, (1, 2, 5, 5)) == 0.5
    assert compression_rate(50, 200) == 0.25


def test_compression_rate_rejects_bad_sizes():
    with pytest.raises(ValueError, match="compressed_bytes"):
        compression_rate(-1, (4,))
    with pytest.raises(ValueError, match="at least one element"):
        compression_rate(10, (0, 3))


# ---- eq. 2 -----------------------------------------------------------------


def onehot(classes, k):
    y = np.zeros((len(classes), k), dtype=np.uint8)
    y[np.arange(len(classes)), classes] = 1
    return y


def test_f_classification_reduces_to_top1_agreement():
    y_p, y_r = onehot([0, 1, 2, 3], 4), onehot([0, 1, 3, 3], 4)
    # Hamming distances 0, 0, 2, 0: 1 - 2 / (2 * 4) = 0.75, the share of agreeing top-1 classes.
    assert f_classification(y_p, y_r) == 0.75
    # As printed, with the division by length(Y) = 4: 1 - (2 / 4) / 8 = 1 - (1 - 0.75) / 4.
    assert f_classification(y_p, y_r, divide_by_length=True) == 0.9375
    assert f_classification(y_p, y_p) == 1.0
    assert f_classification(onehot([0, 0], 3), onehot([1, 2], 3)) == 0.0


def test_f_classification_equals_top1_agreement_on_random_logits():
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(200, 10)), rng.normal(size=(200, 10))
    b[:120] = a[:120]
    assert f_classification(onehot_top1(a), onehot_top1(b)) == top1_agreement(a, b)
    assert 0.6 <= top1_agreement(a, b) < 1.0


def test_f_classification_rejects_what_is_not_one_hot():
    with pytest.raises(ValueError, match="exactly one"):
        f_classification(np.array([[1, 1, 0]]), np.array([[1, 0, 0]]))
    with pytest.raises(ValueError, match="only 0 and 1"):
        f_classification(np.array([[0.2, 0.8]]), np.array([[0, 1]]))
    with pytest.raises(ValueError, match="same shape"):
        f_classification(onehot([0], 3), onehot([0], 4))


def test_top1_ties_go_to_the_lower_class():
    assert onehot_top1([[1.0, 1.0, 0.0]]).tolist() == [[1, 0, 0]]
    assert top1_agreement([[1.0, 1.0, 0.0]], [[0.0, 1.0, 1.0]]) == 0.0
    assert topk_classes([[1.0, 1.0, 1.0, 0.0]], 2).tolist() == [[0, 1]]


def test_topk_overlap_hand_computed():
    p = [[5, 4, 3, 2], [1, 2, 3, 4]]
    r = [[5, 1, 4, 2], [1, 2, 3, 4]]  # row 0: {0, 1} vs {0, 2} -> 1/2; row 1: identical -> 1
    assert topk_overlap(p, r, k=2) == 0.75
    with pytest.raises(ValueError, match="k must be"):
        topk_overlap(p, r, k=5)
    with pytest.raises(ValueError, match="finite"):
        top1_agreement([[np.nan, 1.0]], [[0.0, 1.0]])


# ---- eq. 3 -----------------------------------------------------------------

REFS = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])


def test_cosine_rankings_hand_computed():
    # [1, .1]: cos 0.995, 0.0995, 0.774 -> 0, 2, 1.  [0, 1]: cos 0, 1, 0.707 -> 1, 2, 0.
    assert cosine_rankings([[1.0, 0.1], [0.0, 1.0]], REFS).tolist() == [[0, 2, 1], [1, 2, 0]]


def test_cosine_rankings_ties_and_zero_descriptors_keep_reference_order():
    assert cosine_rankings([[1.0, 1.0]], REFS[:2]).tolist() == [[0, 1]]
    assert cosine_rankings([[0.0, 0.0]], REFS).tolist() == [[0, 1, 2]]
    # Equal references tie: the lower index first, whatever the query.
    refs = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 0.0]])
    assert cosine_rankings([[1.0, 0.2]], refs).tolist() == [[1, 2, 0]]


def test_cosine_rankings_exclude_drops_one_reference_per_query():
    rk = cosine_rankings([[1.0, 0.1], [0.0, 1.0]], REFS, exclude=np.array([0, 2]))
    assert rk.tolist() == [[2, 1], [1, 0]]
    with pytest.raises(ValueError, match="exclude"):
        cosine_rankings([[1.0, 0.1]], REFS, exclude=np.array([3]))
    with pytest.raises(ValueError, match="descriptor length"):
        cosine_rankings([[1.0, 0.1, 0.0]], REFS)


def test_f_retrieval_hand_computed():
    pristine = np.array([[1.0, 0.1], [0.0, 1.0]])
    # Query 0 moves to [0.2, 1]: cos 0.196, 0.981, 0.832 -> ranking 1, 2, 0, the reverse of 0, 2, 1:
    # all 3 pairs swapped, bubble index 0. Query 1 is unchanged: bubble index 1.
    recon = np.array([[0.2, 1.0], [0.0, 1.0]])
    r = f_retrieval(pristine, recon, REFS)
    assert r.per_query.tolist() == [0.0, 1.0]
    assert r.f_retrieval == 0.5
    assert (r.queries, r.ranked) == (2, 3)
    assert math.isnan(r.map_pristine) and r.map_queries == 0


def test_f_retrieval_is_one_for_identical_descriptors():
    rng = np.random.default_rng(1)
    refs, q = rng.normal(size=(50, 8)), rng.normal(size=(7, 8))
    assert f_retrieval(q, q.copy(), refs).f_retrieval == 1.0


def test_average_precision_and_map_hand_computed():
    # Hits at ranks 1 and 3: (1/1 + 2/3) / 2.
    assert average_precision([True, False, True, False]) == pytest.approx(5 / 6)
    assert math.isnan(average_precision([False, False]))
    rankings = np.array([[0, 1, 2, 3], [3, 2, 1, 0], [0, 1, 2, 3]])
    ref_labels = np.array(["a", "b", "a", "b"])
    # Query 0 ("a") sees a b a b and query 1 ("b") sees b a b a: hits at ranks 1 and 3, AP 5/6 each.
    # Query 2 ("c") has no relevant reference and is left out.
    value, used = mean_average_precision(rankings, np.array(["a", "b", "c"]), ref_labels)
    assert used == 2
    assert value == pytest.approx(5 / 6)


def test_f_retrieval_with_labels_reports_map_of_both_rankings():
    pristine = np.array([[1.0, 0.1], [0.0, 1.0]])
    recon = np.array([[0.2, 1.0], [0.0, 1.0]])
    r = f_retrieval(pristine, recon, REFS, query_labels=np.array([0, 1]), reference_labels=np.array([0, 1, 1]))
    # Query 0 (label 0): pristine 0,2,1 -> hit at 1 -> AP 1; reconstructed 1,2,0 -> hit at 3 -> AP 1/3.
    # Query 1 (label 1): 1,2,0 in both -> hits at 1, 2 -> AP 1.
    assert r.map_pristine == 1.0
    assert r.map_reconstructed == pytest.approx((1 / 3 + 1) / 2)
    with pytest.raises(ValueError, match="both"):
        f_retrieval(pristine, recon, REFS, query_labels=np.array([0, 1]))


# ---- eq. 4 -----------------------------------------------------------------


def dets(boxes, classes, conf):
    return Detections(np.array(boxes, dtype=float).reshape(-1, 4), np.array(classes, dtype=int), np.array(conf, dtype=float))


def test_box_iou_hand_computed():
    iou = box_iou([[0, 0, 2, 2]], [[1, 1, 3, 3], [0, 0, 2, 2], [5, 5, 6, 6], [1, 1, 1, 1]])
    assert iou.tolist() == [[1 / 7, 1.0, 0.0, 0.0]]
    assert box_iou([[1, 1, 1, 1]], [[1, 1, 1, 1]]).tolist() == [[0.0]]  # zero union


def test_highest_iou_matching_is_global_best_iou_first_not_pristine_order():
    p = dets([[0, 0, 10, 10], [2, 0, 12, 10]], [7, 7], [0.9, 0.8])
    r = dets([[2, 0, 12, 10], [-3, 0, 7, 10]], [7, 7], [0.9, 0.8])
    # p1-r0 has IoU 1 and is taken first; p0 then gets r1 (70/130), although r0 (80/120) was its best.
    assert match_detections(p, r, matching="highest-iou") == [(0, 1, pytest.approx(70 / 130)), (1, 0, 1.0)]
    # The authors' order: p0 (the more confident) first takes its best, r0; p1 gets r1 (50/150).
    assert match_detections(p, r) == [(0, 0, pytest.approx(80 / 120)), (1, 1, pytest.approx(50 / 150))]


def authors_f_i(pristine, reconstructed, pixel_inclusive):
    """A transcription of the authors' per-image loop of eq. 4, kept plain on purpose: the pristine
    detections in descending confidence, each scanning the unused reconstructed ones of its class for
    the highest IoU (strictly above the best so far, from 0), VOC's +1-pixel areas when asked."""
    one = 1.0 if pixel_inclusive else 0.0
    order = sorted(range(len(pristine)), key=lambda j: -pristine[j][2])
    used = [False] * len(reconstructed)
    num = den = 0.0
    for j in order:
        pbox, pcls, pconf = pristine[j]
        den += pconf
        best, best_k = 0.0, -1
        for k, (rbox, rcls, _) in enumerate(reconstructed):
            if used[k] or rcls != pcls:
                continue
            iw = min(pbox[2], rbox[2]) - max(pbox[0], rbox[0]) + one
            ih = min(pbox[3], rbox[3]) - max(pbox[1], rbox[1]) + one
            if iw <= 0 or ih <= 0:
                continue
            inter = iw * ih
            union = (pbox[2] - pbox[0] + one) * (pbox[3] - pbox[1] + one) + (rbox[2] - rbox[0] + one) * (rbox[3] - rbox[1] + one) - inter
            if inter / union > best:
                best, best_k = inter / union, k
        if best_k >= 0:
            used[best_k] = True
            rconf = reconstructed[best_k][2]
            num += best * max(0.0, 1 - (pconf - rconf) / pconf) * pconf
    return num / den


def test_authors_and_highest_iou_matching_differ_as_transcribed():
    # p0 (0.9) and p1 (0.5) of one class; r0 sits exactly on p1 but overlaps p0 more than r1 does.
    pristine = [([0, 0, 10, 10], 3, 0.9), ([2, 0, 12, 10], 3, 0.5)]
    reconstructed = [([2, 0, 12, 10], 3, 0.8), ([0, 0, 4, 10], 3, 0.7)]
    p = dets([b for b, _, _ in pristine], [c for _, c, _ in pristine], [s for _, _, s in pristine])
    r = dets([b for b, _, _ in reconstructed], [c for _, c, _ in reconstructed], [s for _, _, s in reconstructed])
    # authors: p0 takes r0 (IoU 80/120), p1 gets r1 (20/120); relconf * C_p = C_r
    authors = (80 / 120 * 0.8 + 20 / 120 * 0.7) / 1.4
    # highest IoU first: p1-r0 (IoU 1), then p0-r1 (40/100)
    highest = (1.0 * 0.8 + 40 / 100 * 0.7) / 1.4
    assert authors == pytest.approx(0.4642857142857143) and highest == pytest.approx(0.7714285714285714)
    assert authors_f_i(pristine, reconstructed, False) == pytest.approx(authors)
    assert f_detection([p], [r]).f_detection == pytest.approx(authors)
    assert f_detection([p], [r], matching="highest-iou").f_detection == pytest.approx(highest)
    # VOC's +1-pixel boxes: 11 x 11 pixels each; the transcription and FTM agree there too
    inclusive = authors_f_i(pristine, reconstructed, True)
    assert inclusive == pytest.approx((99 / 143 * 0.8 + 33 / 143 * 0.7) / 1.4)
    assert f_detection([p], [r], pixel_inclusive=True).f_detection == pytest.approx(inclusive)
    with pytest.raises(ValueError, match="matching must be one of"):
        f_detection([p], [r], matching="hungarian")


def test_box_iou_pixel_inclusive():
    assert box_iou([[0, 0, 9, 9]], [[5, 0, 14, 9]], pixel_inclusive=True).tolist() == [[50 / 150]]
    assert box_iou([[0, 0, 9, 9]], [[5, 0, 14, 9]]).tolist() == [[36 / 126]]
    assert box_iou([[3, 3, 3, 3]], [[3, 3, 3, 3]], pixel_inclusive=True).tolist() == [[1.0]]  # one pixel


def test_detections_from_array_drops_padding():
    a = np.zeros((2, 3, 6))
    a[0, 0] = [0.1, 0.2, 0.5, 0.6, 0.9, 18]
    first, second = detections_from_array(a)
    assert len(first) == 1 and first.classes.tolist() == [18] and first.boxes.tolist() == [[0.1, 0.2, 0.5, 0.6]]
    assert len(second) == 0
    with pytest.raises(ValueError, match="N x K x 6"):
        detections_from_array(np.zeros((2, 6)))


def test_detection_map_against_pristine_detections():
    pytest.importorskip("pycocotools")
    from ftm.metrics.detection_map import detection_map

    p = [dets([[0, 0, 10, 10], [20, 20, 30, 30]], [1, 2], [0.9, 0.6]), dets([[0, 0, 5, 5]], [1], [0.8])]
    assert detection_map(p, p).map == pytest.approx(1.0)
    shifted = [dets([[0, 0, 10, 10], [24, 20, 34, 30]], [1, 2], [0.9, 0.6]), dets([], [], [])]
    m = detection_map(p, shifted)
    # class 1: one of two found (AP 0.5 at every IoU threshold, COCO's 101-point interpolation);
    # class 2: IoU 60/140 = 0.43, below every threshold: AP 0
    assert m.map50 == pytest.approx((0.5 + 0.0) / 2, abs=0.01) and m.map == pytest.approx(0.25, abs=0.01)
    assert (m.ground_truth, m.predictions) == (3, 2)
    assert detection_map([dets([], [], [])], [dets([], [], [])]).map is None
    assert detection_map(p, [dets([], [], []), dets([], [], [])]).map == 0.0


def test_matching_stays_within_a_class_and_breaks_ties_by_index():
    p = dets([[0, 0, 4, 4]], [0], [0.5])
    assert match_detections(p, dets([[0, 0, 4, 4]], [1], [0.5])) == []
    twins = dets([[0, 0, 4, 4], [0, 0, 4, 4]], [0, 0], [0.3, 0.9])
    assert match_detections(p, twins) == [(0, 0, 1.0)]


def test_f_detection_hand_computed():
    image_a = (
        dets([[0, 0, 10, 10], [20, 20, 30, 30]], [1, 2], [0.9, 0.6]),
        # class 1: IoU 0.5, relconf 1 - (0.9 - 0.45) / 0.9 = 0.5; class 2: IoU 1, relconf 1.5 (C_r > C_p)
        dets([[0, 0, 10, 5], [20, 20, 30, 30]], [1, 2], [0.45, 0.9]),
    )
    image_b = (dets([[0, 0, 4, 4]], [0], [0.5]), dets([[0, 0, 4, 4]], [1], [0.5]))  # class differs: unmatched
    image_c = (dets([], [], []), dets([[0, 0, 4, 4]], [0], [0.5]))  # no pristine detection: left out
    image_d = (dets([[0, 0, 4, 4]], [3], [0.8]), dets([[0, 0, 4, 4]], [3], [0.0]))  # relconf max(0, 0) = 0
    result = f_detection(*zip(image_a, image_b, image_c, image_d))
    # F_a = (0.5 * 0.5 * 0.9 + 1 * 1.5 * 0.6) / (0.9 + 0.6) = 1.125 / 1.5 = 0.75
    assert result.per_image.tolist() == pytest.approx([0.75, 0.0, 0.0])
    assert result.f_detection == pytest.approx(0.25)
    assert (result.images, result.skipped) == (3, 1)


def test_f_detection_unchanged_detections_give_one_and_extra_ones_are_ignored():
    p = dets([[0, 0, 10, 10], [3, 3, 8, 9]], [1, 4], [0.7, 0.2])
    r = dets([[0, 0, 10, 10], [3, 3, 8, 9], [50, 50, 60, 60]], [1, 4, 1], [0.7, 0.2, 0.99])
    assert f_detection([p], [r]).f_detection == 1.0


def test_f_detection_without_any_pristine_detection_is_nan():
    empty = dets([], [], [])
    result = f_detection([empty, empty], [empty, empty])
    assert math.isnan(result.f_detection) and (result.images, result.skipped) == (0, 2)


def test_detections_reject_bad_input():
    with pytest.raises(ValueError, match="x2 < x1"):
        dets([[5, 0, 1, 1]], [0], [0.5])
    with pytest.raises(ValueError, match="one entry per box"):
        dets([[0, 0, 1, 1]], [0, 1], [0.5])
    with pytest.raises(ValueError, match=">= 0"):
        dets([[0, 0, 1, 1]], [0], [-0.1])
    with pytest.raises(ValueError, match="> 0"):
        f_detection([dets([[0, 0, 1, 1]], [0], [0.0])], [dets([], [], [])])
    with pytest.raises(ValueError, match="same images"):
        f_detection([dets([], [], [])], [])


# ---- the table of one layer -------------------------------------------------


def test_task_fidelity_identical_outputs_score_one():
    rng = np.random.default_rng(3)
    logits, desc = rng.normal(size=(6, 20)), rng.random(size=(6, 12))
    rep = task_fidelity(logits, logits, desc, desc, labels=np.array([0, 0, 1, 1, 2, 2]),
                        compressed_bytes=30, original_bytes=120)  # fmt: skip
    assert rep["compression_rate"] == 0.25
    for key in ("f_classification", "top1_agreement", "top5_overlap", "f_retrieval"):
        assert rep[key] == 1.0
    assert rep["map_pristine"] == rep["map_reconstructed"]
    assert rep["retrieval"] == {"protocol": "leave-one-out", "queries": 6, "ranked": 5, "map_queries": 6}


def test_task_fidelity_skips_retrieval_below_three_images():
    logits = np.eye(2)
    rep = task_fidelity(logits, logits[::-1], logits, logits)
    assert rep["f_classification"] == 0.0
    assert rep["f_retrieval"] is None and rep["compression_rate"] is None


def test_task_fidelity_computes_what_the_given_outputs_allow():
    rng = np.random.default_rng(7)
    d = rng.normal(size=(6, 4))
    out = {"descriptor": d, "logits": d @ rng.normal(size=(4, 7))}
    only_logits = task_fidelity(out["logits"], out["logits"] * 0.5)
    assert only_logits["f_classification"] == 1.0 and only_logits["f_retrieval"] is None and only_logits["images"] == 6
    only_desc = task_fidelity(descriptor_pristine=out["descriptor"], descriptor_reconstructed=out["descriptor"][::-1])
    assert only_desc["f_classification"] is None and only_desc["top5_overlap"] is None and only_desc["f_retrieval"] < 1
    nothing = task_fidelity(images=6, compressed_bytes=10, original_bytes=40)
    assert nothing["compression_rate"] == 0.25 and nothing["f_classification"] is None and nothing["f_retrieval"] is None
    with pytest.raises(ValueError, match="logits: the pristine ones are given without the others"):
        task_fidelity(out["logits"], None)
    with pytest.raises(ValueError, match="must agree on the number of images"):
        task_fidelity(out["logits"], out["logits"], out["descriptor"][:5], out["descriptor"][:5])
