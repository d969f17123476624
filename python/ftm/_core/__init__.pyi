"""Type stubs for the C++ core, ftm._core: one submodule per concept.

The compiled module (_core*.so beside this folder) is what Python imports;
these files only describe it.
"""

from . import bitstream as bitstream
from . import bubble_index as bubble_index
from . import level_coder as level_coder
from . import pack as pack
from . import quantize as quantize
from . import threads as threads

# Deprecated, kept for one release: the flat names of FTM 0.1, aliases of the
# submodules' names. `pack` and `bubble_index` name the submodules here; calling
# them (ftm._core.pack(...)) still calls pack.pack and bubble_index.bubble_index.
from .bitstream import BitstreamError as BitstreamError
from .bitstream import FeatureKind as FeatureKind
from .bitstream import HashBox as HashBox
from .bitstream import HevcBox as HevcBox
from .bitstream import LogQuantBox as LogQuantBox
from .bitstream import MinMaxQuantBox as MinMaxQuantBox
from .bitstream import PackBox as PackBox
from .bitstream import PackMode as PackMode
from .bitstream import ScalarQuantBox as ScalarQuantBox
from .bitstream import SourceDtype as SourceDtype
from .bitstream import Stream as Stream
from .bitstream import TensorRecord as TensorRecord
from .bitstream import parse_stream as parse_stream
from .bitstream import validate_stream as validate_stream
from .bitstream import write_stream as write_stream
from .bubble_index import bubble_index_batch as bubble_index_batch
from .bubble_index import inversion_count as inversion_count
from .bubble_index import inversion_count_batch as inversion_count_batch
from .level_coder import LEVEL_HEADER_BYTES as LEVEL_HEADER_BYTES
from .level_coder import MAX_ADAPTATION_SHIFT as MAX_ADAPTATION_SHIFT
from .level_coder import MIN_ADAPTATION_SHIFT as MIN_ADAPTATION_SHIFT
from .level_coder import decode_levels as decode_levels
from .level_coder import encode_levels as encode_levels
from .pack import PACK_CHANNEL as PACK_CHANNEL
from .pack import PACK_TILED as PACK_TILED
from .pack import pack_geometry as pack_geometry
from .pack import unpack as unpack
from .quantize import MAX_BITS as MAX_BITS
from .quantize import MAX_QP as MAX_QP
from .quantize import MIN_BITS as MIN_BITS
from .quantize import MIN_QP as MIN_QP
from .quantize import log_dequantize as log_dequantize
from .quantize import log_quantize as log_quantize
from .quantize import minmax_dequantize as minmax_dequantize
from .quantize import minmax_quantize as minmax_quantize
from .quantize import qstep as qstep
from .quantize import sq_dequantize as sq_dequantize
from .quantize import sq_quantize as sq_quantize
from .threads import num_threads as num_threads
from .threads import set_num_threads as set_num_threads
