"""Machine-task fidelity metrics of seed 002 §3.2, on plain numpy arrays.

- :func:`compression_rate` (eq. 1); :func:`bits_per_dimension`, :func:`bytes_per_vector`
  (the rate of coded vectors, seed 001's "BPP")
- :func:`f_classification` (eq. 2), :func:`top1_agreement`, :func:`topk_overlap`
- :func:`f_retrieval` (eq. 3, bubble index), :func:`cosine_rankings`,
  :func:`mean_average_precision`
- :func:`f_detection` (eq. 4, the authors' matching or FTM 0.2's), :func:`box_iou`,
  :func:`match_detections`, :func:`detections_from_array`; :func:`detection_map`
  (COCO mAP against the pristine detections, pycocotools: the "detect" extra)
- :func:`bd_rate`, :func:`bd_fidelity` (Bjontegaard deltas between two
  rate-fidelity curves)
- :func:`task_fidelity`: the fidelity table of one coded layer
- :func:`verification_pairs`, :func:`verification` (LFW-protocol accuracy,
  ROC AUC and EER, seed 001), :func:`query_gallery_retrieval` (mAP, rank-1)

None of them needs torch (ROC AUC and EER use scikit-learn): the network outputs they compare come from
:mod:`ftm.extract` or from any other framework.
"""

from ftm.metrics.bjontegaard import BD_METHODS, bd_fidelity, bd_rate
from ftm.metrics.classification import (
    f_classification,
    top1_agreement,
    topk_overlap,
)
from ftm.metrics.detection import (
    MATCHING,
    DetectionFidelity,
    Detections,
    box_iou,
    detections_from_array,
    f_detection,
    match_detections,
)
from ftm.metrics.detection_map import DetectionMap, detection_map
from ftm.metrics.rate import bits_per_dimension, bytes_per_vector, compression_rate, original_bytes
from ftm.metrics.report import task_fidelity
from ftm.metrics.retrieval import (
    RetrievalFidelity,
    average_precision,
    cosine_rankings,
    f_retrieval,
    mean_average_precision,
)
from ftm.metrics.verification import (
    RetrievalAccuracy,
    VerificationPairs,
    VerificationResult,
    query_gallery_retrieval,
    roc_auc_eer,
    verification,
    verification_accuracy,
    verification_pairs,
)

__all__ = [
    "BD_METHODS",
    "MATCHING",
    "RetrievalAccuracy",
    "VerificationPairs",
    "VerificationResult",
    "bits_per_dimension",
    "bytes_per_vector",
    "query_gallery_retrieval",
    "roc_auc_eer",
    "verification",
    "verification_accuracy",
    "verification_pairs",
    "DetectionFidelity",
    "DetectionMap",
    "Detections",
    "RetrievalFidelity",
    "average_precision",
    "bd_fidelity",
    "bd_rate",
    "box_iou",
    "compression_rate",
    "cosine_rankings",
    "detection_map",
    "detections_from_array",
    "f_classification",
    "f_detection",
    "f_retrieval",
    "match_detections",
    "mean_average_precision",
    "original_bytes",
    "task_fidelity",
    "top1_agreement",
    "topk_overlap",
]
