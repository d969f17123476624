"""The learned record kind: model files, PRO/PRO-E/SQ-E/PQ/OPQ through .ftm streams, wrong models
refused, product codes, and what the stream checks (numpy only: no torch needed to code or decode)."""

import hashlib
import json
import os

import numpy as np
import pytest

import ftm
from ftm._core import bitstream as container
from ftm.codecs.learned import networks, read_model_file, write_model_file
from ftm.codecs.learned.model_file import METADATA_KEY, parse_model
from ftm.codecs.learned.product_codes import pack_codes, pq_decode, pq_encode, unpack_codes
from ftm.errors import BitstreamError, ConfigError, InputError, ModelError
from ftm.metrics import bits_per_dimension

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = os.path.join(ROOT, "conformance", "models")
D = 16


def vectors(n=10, seed=0):
    rng = np.random.default_rng(seed)
    return rng.laplace(size=(n, D)).astype(np.float32)


def model(name):
    return os.path.join(MODELS, f"tiny_{name}.safetensors")


def encode(x, name):
    return ftm.encode_tensors({"emb": x}, {"FeatureKind": "learned", "Model": model(name)}, progress=False)


@pytest.mark.parametrize("name", ["pro", "pro_e", "sq_e", "pq", "opq"])
def test_encode_stream_decode_round_trip(name):
    x = vectors()
    result = encode(x, name)
    record = container.parse_stream(result.data).tensors[0]
    assert record.kind == container.FeatureKind.LEARNED
    assert bytes(record.learned_model.model_sha256).hex() == read_model_file(model(name)).sha256
    decoded = ftm.decode(result.data, model=model(name))
    np.testing.assert_array_equal(decoded, result.reconstruction["emb"])
    assert decoded.shape == x.shape and decoded.dtype == np.float32


def test_pro_levels_are_the_clipped_rounded_latent():
    x = vectors(7)
    m = read_model_file(model("pro"))
    record = container.parse_stream(encode(x, "pro").data).tensors[0]
    assert (record.latent.latent_dims, record.latent.r_clip) == (8, 20.0)
    levels = ftm.decode_levels(record.cabac, 7, 8)
    np.testing.assert_array_equal(levels, np.rint(np.clip(networks.pro_encode(m.weights, x), -20, 20)))
    np.testing.assert_array_equal(ftm.decode(encode(x, "pro").data, model=model("pro")), networks.pro_decode(m.weights, levels))


def test_pro_e_carries_the_low_rate_levels_and_decodes_them_enhanced():
    x = vectors(5)
    low = container.parse_stream(encode(x, "pro").data).tensors[0]
    enhanced = container.parse_stream(encode(x, "pro_e").data).tensors[0]
    assert low.cabac == enhanced.cabac  # the same encoder: the same rate
    m = read_model_file(model("pro_e"))
    levels = ftm.decode_levels(enhanced.cabac, 5, 8)
    c = networks.enhance_latent(m.weights, levels, 20.0, 12.0)
    np.testing.assert_array_equal(ftm.decode(encode(x, "pro_e").data, model=model("pro_e")), networks.pro_decode(m.weights, c))


def test_sq_e_codes_exactly_what_sq_codes_at_its_qp():
    x = vectors(6)
    sqe = container.parse_stream(encode(x, "sq_e").data).tensors[0]
    sq = container.parse_stream(ftm.encode({"emb": x}, {"FeatureKind": "vector", "QP": "28", "Normalization": "scale",
                                                       "Scale": "0.25"})).tensors[0]  # fmt: skip
    assert sqe.cabac == sq.cabac and sqe.scalar_quant.qp == 28


def test_a_different_model_is_refused():
    data = encode(vectors(), "pro").data
    with pytest.raises(BitstreamError, match="give the model it was coded with") as info:
        ftm.decode(data, model=model("pq"))
    assert read_model_file(model("pro")).sha256 in str(info.value)
    with pytest.raises(ConfigError, match="--Model FILE"):
        ftm.decode(data)


def test_the_record_checks_the_model_it_is_decoded_with(tmp_path):
    m = read_model_file(model("pro"))
    header = dict(m.header, seed=1)  # the same weights, another file: another digest
    other = write_model_file(tmp_path / "other.safetensors", header, m.weights)
    assert other.sha256 != m.sha256
    with pytest.raises(BitstreamError, match="another model"):
        ftm.decode(encode(vectors(), "pro").data, model=str(tmp_path / "other.safetensors"))


def test_codes_are_checked_and_features_are_informative():
    data = encode(vectors(), "pro").data
    stream = container.parse_stream(data)
    record = stream.tensors[0]
    digest = record.hash
    digest.features_md5 = bytes(16)  # another platform's float output
    record.hash = digest
    stream.tensors = [record]
    ftm.decode(container.write_stream(stream), model=model("pro"))
    digest.codes_md5 = bytes(16)
    record.hash = digest
    stream.tensors = [record]
    with pytest.raises(ftm.StreamVerificationError, match="decoded codes"):
        ftm.decode(container.write_stream(stream), model=model("pro"))


def test_the_rate_figure_is_the_streams_bytes():
    x = vectors(20)
    for name in ("pro", "pq"):
        data = encode(x, name).data
        assert bits_per_dimension(len(data), 20, D) == 8 * len(data) / (20 * D)
    assert bits_per_dimension(100, 10, 8) == 10.0


def test_vectors_of_the_wrong_length_are_refused():
    with pytest.raises(InputError, match="16-d"):
        encode(vectors()[:, :8], "pro")


def test_model_config_is_checked():
    with pytest.raises(ConfigError, match="needs Model"):
        ftm.Config.from_values({"FeatureKind": "learned"})
    with pytest.raises(ConfigError, match="QP does not apply"):
        ftm.Config.from_values({"FeatureKind": "learned", "Model": model("pro"), "QP": "30"})
    with pytest.raises(ConfigError, match="Model applies to FeatureKind : learned"):
        ftm.Config.from_values({"FeatureKind": "vector", "Model": model("pro")})


@pytest.mark.parametrize("bits", [1, 3, 5, 8, 12, 16])
def test_product_codes_round_trip_through_their_bit_string(bits):
    rng = np.random.default_rng(bits)
    codes = rng.integers(0, 1 << bits, size=(7, 3))
    data = pack_codes(codes, bits)
    assert len(data) == (7 * 3 * bits + 7) // 8
    np.testing.assert_array_equal(unpack_codes(data, 7, 3, bits), codes)


def test_product_codes_are_msb_first():
    assert pack_codes(np.array([[1, 2, 3]]), 3) == bytes([0b00101001, 0b10000000])
    with pytest.raises(BitstreamError, match="expected 2"):
        unpack_codes(b"\x00", 1, 3, 3)


def test_pq_encodes_each_subvector_to_its_nearest_centroid():
    centroids = np.array([[[0.0, 0.0], [1.0, 1.0], [5.0, 5.0]], [[0.0, 0.0], [-2.0, 0.0], [0.0, 3.0]]], np.float32)
    weights = {"pq.centroids": centroids}
    x = np.array([[0.9, 1.2, -1.9, 0.1], [4.0, 4.0, 0.0, 1.4]])
    np.testing.assert_array_equal(pq_encode(weights, x), [[1, 1], [2, 0]])
    np.testing.assert_array_equal(pq_decode(weights, np.array([[1, 2]])), [[1.0, 1.0, 0.0, 3.0]])
    rotation = np.array([[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]], np.float32)
    weights["opq.rotation"] = rotation  # OPQ: y = A x, decoded x' = A^T y'
    np.testing.assert_array_equal(pq_decode(weights, np.array([[2, 1]])), [[5.0, 5.0, -2.0, 0.0]])
    np.testing.assert_array_equal(pq_encode(weights, np.array([[1.2, 0.9, 0.0, 2.9]])), [[1, 2]])


def test_model_files_are_checked_header_first(tmp_path):
    m = read_model_file(model("pq"))
    path = tmp_path / "m.safetensors"
    with pytest.raises(ModelError, match="does not exist"):
        read_model_file(path)
    path.write_bytes(b"\x00" * 4)
    with pytest.raises(ModelError, match="too short"):
        read_model_file(path)
    from safetensors.numpy import save

    path.write_bytes(save({"x": np.zeros(2, np.float32)}))
    with pytest.raises(ModelError, match="no 'ftm_model' header"):
        read_model_file(path)
    bad = dict(m.header, method="zip")
    path.write_bytes(save(dict(m.weights), metadata={METADATA_KEY: json.dumps(bad)}))
    with pytest.raises(ModelError, match="unknown method 'zip'"):
        read_model_file(path)
    path.write_bytes(save({"pq.centroids": np.zeros((4, 8, 3), np.float32)}, metadata={METADATA_KEY: json.dumps(m.header)}))
    with pytest.raises(ModelError, match=r"expected float32 \(4, 8, 4\)"):
        read_model_file(path)
    with pytest.raises(ModelError, match="missing"):
        write_model_file(path, m.header, {})
    data = (tmp_path / "ok.safetensors")
    written = write_model_file(data, m.header, m.weights)
    assert written.sha256 == hashlib.sha256(data.read_bytes()).hexdigest()
    assert parse_model(data.read_bytes()).header["architecture"] == {"num_subquantizers": 4, "code_bits": 3}


@pytest.mark.parametrize("name", ["pro", "pq"])
def test_learned_records_are_under_the_decode_limits(name):
    from ftm.errors import DecodeLimitError

    data = encode(vectors(n=40), name).data
    assert ftm.decode(data, model=model(name), max_elements=40 * D * 4).shape == (40, D)
    with pytest.raises(DecodeLimitError, match="elements"):
        ftm.decode(data, model=model(name), max_elements=40 * D - 1)
    with pytest.raises(DecodeLimitError):
        ftm.decode(data, model=model(name), max_memory=1000)
