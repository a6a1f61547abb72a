"""PyTorch names chainrule deliberately does not provide, each with a reason.

``NOT_PROVIDED[namespace]`` is a list of ``(patterns, reason)``: the patterns
are space-separated names or shell globs (``cuda*``) matched against the
public names of that torch namespace.  ``tests/test_api_coverage.py`` fails
for a torch name that chainrule neither has nor lists here, and for a listed
exact name that chainrule now has (delete it from the list then).
"""

CPU_ONLY = "chainrule runs on the CPU with NumPy: no accelerators or device streams"
DTYPES = ("dtype not provided: chainrule has bool, int32, int64, float32, float64 "
          "(NumPy-backed, no half/bfloat16/8-bit/complex kernels)")
COMPLEX = "complex tensors are not provided (real dtypes only)"
SPARSE = "sparse layouts are not provided (dense NumPy arrays only)"
QUANT = "quantisation is not provided"
STORAGE = "tensors wrap NumPy arrays: no storage/stride-manipulation API"
SPECIAL = ("special functions beyond erf (gamma family, Bessel, erfc) need "
           "NumPy-only kernels; not provided yet (SciPy is not a dependency)")
DATA_DEP = ("data-dependent output shapes or integer counting (unique, bincount, "
            "histograms): not provided yet")
DECOMP = ("matrix decompositions beyond chainrule.linalg (qr, lu, eig, lstsq, "
          "matrix_exp): not provided yet")
DEPRECATED = ("removed or deprecated in PyTorch; use the torch.linalg / documented "
              "spelling")
ATEN = ("ATen-level signature that differs from torch.nn.functional's (argument "
        "order or integer reduction codes); use torch.nn.functional")
INTERNAL = "PyTorch internals (TorchScript, FX, dispatcher, build info, dynamo)"
THREEDIM = "3-D convolution and pooling: not provided yet (1-D and 2-D are)"
LAZY = "lazy modules: chainrule layers take their sizes at construction"
REDUCE_SCATTER = "scatter/index reductions other than sum: not provided yet"
RANDOM = "sampling from given rates (Poisson, binomial, rrelu): not provided yet"
FFT = "FFT and spectral ops are not provided"

NOT_PROVIDED = {
    "Tensor": [
        ("ipu xpu mtia is_ipu is_xpu is_mtia is_maia is_mps is_vulkan is_xla "
         "pin_memory is_pinned record_stream", CPU_ONLY),
        ("bfloat16 half byte char short", DTYPES),
        ("cfloat cdouble chalf imag conj_physical_", COMPLEX),
        ("ccol_indices col_indices crow_indices row_indices indices values coalesce "
         "dense_dim sparse_dim is_coalesced is_sparse_csr sparse_mask sparse_resize_* "
         "smm sspaddmm to_sparse* resize_as_sparse_", SPARSE),
        ("dequantize int_repr q_* qscheme", QUANT),
        ("as_strided as_strided_ as_strided_scatter data_ptr const_data_ptr storage "
         "storage_offset storage_type untyped_storage set_ resize resize_ resize_as "
         "resize_as_ share_memory_ is_shared is_set_to new new_empty_strided "
         "dim_order layout to_mkldnn to_padded_tensor", STORAGE),
        ("t_ transpose_ squeeze_ unsqueeze_ swapaxes_ swapdims_",
         "in-place shape changes: chainrule tensors change values in place, not "
         "shapes"),
        ("lgamma lgamma_ digamma digamma_ polygamma polygamma_ mvlgamma mvlgamma_ "
         "i0 i0_ igamma igamma_ igammac igammac_ erfc erfc_ erfinv erfinv_",
         "special functions as Tensor methods: chainrule.lgamma, digamma, "
         "polygamma and erfinv exist as functions; the methods are not bound yet"),
        ("gcd gcd_ lcm lcm_ frexp nextafter nextafter_ bitwise_left_shift* "
         "bitwise_right_shift*", "integer and float bit-level arithmetic: not "
         "provided yet"),
        ("unique unique_consecutive bincount histc histogram nonzero_static mode "
         "nanmedian quantile nanquantile cov corrcoef", DATA_DEP),
        ("cholesky cholesky_inverse cholesky_solve qr svd lu lu_solve geqrf orgqr "
         "ormqr matrix_exp", DECOMP),
        ("eig symeig lstsq solve triangular_solve", DEPRECATED),
        ("scatter_reduce scatter_reduce_ index_reduce index_reduce_ masked_scatter "
         "masked_scatter_ put put_ diagonal_scatter renorm renorm_", REDUCE_SCATTER),
        ("stft istft", FFT),
        ("apply_ map_ map2_", "Python callbacks per element (CPU-only legacy in "
         "PyTorch); use vectorised ops"),
        ("output_nr grad_dtype is_inference "
         "reinforce volatile", "autograd engine internals"),
        ("index name is_distributed hash_tensor module_load slice_inverse "
         "as_subclass", INTERNAL),
    ],
    "torch": [
        ("cpu get_num_interop_threads set_num_interop_threads init_num_threads",
         "inter-op thread pools and the cpu namespace: chainrule has one BLAS pool "
         "(set_num_threads)"),
        ("accelerator mps mtia xpu Stream Event get_default_device set_default_device "
         "get_device get_device_module is_vulkan_available AcceleratorError "
         "OutOfMemoryError", CPU_ONLY),
        ("*Storage *Tensor Storage StorageBase TypedStorage UntypedStorage "
         "set_default_tensor_type", "legacy typed tensor and storage classes; use "
         "tensor(..., dtype=...)"),
        ("bfloat16 float16 half float8_* float4_* int1 int2 int3 int4 int5 int6 int7 "
         "int8 int16 short uint* bits* bit", DTYPES),
        ("complex complex32 complex64 complex128 cfloat cdouble chalf polar imag "
         "view_as_complex* view_as_real* conj_physical_", COMPLEX),
        ("sparse sparse_* spmm hspmm hsmm dsmm smm sspaddmm saddmm *_indices_copy "
         "values_copy indices_copy resize_as_sparse_", SPARSE),
        ("quantiz* quantized_* q_* qint* quint* qscheme per_channel_* per_tensor_* "
         "dequantize int_repr fake_quantize_* fused_moving_avg_obs_fake_quant "
         "choose_qparams_optimized empty_quantized fbgemm_* ao", QUANT),
        ("as_strided as_strided_ as_strided_copy as_strided_scatter empty_strided "
         "empty_permuted strided layout memory_format channels_last "
         "channels_last_3d contiguous_format preserve_format "
         "legacy_contiguous_format from_file frombuffer from_dlpack to_dlpack "
         "asarray storage is_storage resize_as_", STORAGE),
        ("mvlgamma i0 i0_ igammac erfc erfc_ "
         "special kaiser_window", SPECIAL),
        ("gcd gcd_ lcm lcm_ frexp nextafter bitwise_left_shift bitwise_right_shift",
         "integer and float bit-level arithmetic: not provided yet"),
        ("unique unique_consecutive bincount histc histogram histogramdd "
         "nonzero_static mode nanmedian quantile nanquantile cov corrcoef "
         "combinations segment_reduce", DATA_DEP),
        ("cholesky cholesky_inverse cholesky_solve qr svd svd_lowrank pca_lowrank "
         "lu lu_solve lu_unpack geqrf orgqr ormqr matrix_exp lobpcg", DECOMP),
        ("eig symeig lstsq solve triangular_solve matrix_rank frobenius_norm "
         "nuclear_norm", DEPRECATED),
        ("scatter_reduce index_reduce masked_scatter put diagonal_scatter renorm",
         REDUCE_SCATTER),
        ("fft stft istft signal windows", FFT),
        ("batch_norm batch_norm_* native_* instance_norm embedding embedding_bag "
         "embedding_renorm_ binary_cross_entropy_with_logits kl_div "
         "cosine_embedding_loss hinge_embedding_loss margin_ranking_loss "
         "poisson_nll_loss triplet_margin_loss ctc_loss convolution conv_tbc "
         "lstm lstm_cell gru gru_cell rnn_relu rnn_relu_cell rnn_tanh rnn_tanh_cell "
         "grid_sampler grid_sampler_2d grid_sampler_3d affine_grid_generator "
         "norm_except_dim feature_dropout feature_dropout_ "
         "dropout_ alpha_dropout alpha_dropout_ feature_alpha_dropout "
         "feature_alpha_dropout_ celu_ selu_ rrelu rrelu_ pdist pixel_shuffle "
         "pixel_unshuffle channel_shuffle native_channel_shuffle addmv_", ATEN),
        ("conv3d conv_transpose3d max_pool3d", THREEDIM),
        ("binomial", RANDOM),
        ("cudnn_* miopen_* mkldnn_* has_lapack has_mkl has_openmp has_spectral",
         "backend libraries of PyTorch's own kernels"),
        ("amp autocast autocast_* *_autocast_* clear_autocast_cache "
         "set_float32_matmul_precision get_float32_matmul_precision "
         "set_flush_denormal", "mixed precision and matmul precision modes: no "
         "reduced-precision dtypes"),
        ("use_deterministic_algorithms are_deterministic_algorithms_enabled "
         "is_deterministic_algorithms_warn_only_enabled set_deterministic_debug_mode "
         "get_deterministic_debug_mode", "chainrule's kernels are always "
         "deterministic; there is no switch"),
        ("is_anomaly_enabled is_anomaly_check_nan_enabled set_anomaly_enabled "
         "is_inference_mode_enabled is_inference detach_", "autograd engine switches "
         "(chainrule.autograd has its own)"),
        ("vmap cond while_loop", "functional transforms live in chainrule.func"),
        ("multiprocessing hub profiler testing "
         "monitor package export compiler masked nested jagged quasirandom "
         "futures fork wait library overrides return_types serialization "
         "torch_version version functional classes", "subpackages "
         "not provided (or provided elsewhere in chainrule: data, train, io)"),
        ("set_printoptions set_warn_always is_warn_always_enabled typename "
         "can_cast dtype gradient", "not provided yet (printing options, dtype "
         "utilities, numerical gradient)"),
        ("[A-Z]* sym_* compiled_with_cxx11_abi fx cpp "
         "import_ir_module* parse_ir parse_schema parse_type_comment "
         "merge_type_from_type_comment unify_type_list classproperty get_file_path "
         "prepare_multiprocessing_environment thread_safe_generator "
         "profiler_allow_cudagraph_cupti_lazy_reinit_cuda12 hash_tensor "
         "is_distributed slice_inverse torch types", INTERNAL),
    ],
    "nn.functional": [
        ("adaptive_avg_pool3d adaptive_max_pool3d* avg_pool3d conv3d "
         "conv_transpose3d max_pool3d* max_unpool3d fractional_max_pool3d*",
         THREEDIM),
        ("adaptive_max_pool1d_with_indices adaptive_max_pool2d_with_indices "
         "max_unpool1d max_unpool2d fractional_max_pool2d*", "pooling with returned "
         "indices and unpooling: not provided yet"),
        ("affine_grid grid_sample", "spatial transformers: not provided yet"),
        ("alpha_dropout feature_alpha_dropout rrelu rrelu_ celu_ selu_ gumbel_softmax",
         "SELU-network dropouts, random leaky ReLU and in-place spellings: not "
         "provided yet"),
        ("channel_shuffle native_channel_shuffle pixel_shuffle pixel_unshuffle "
         "local_response_norm lp_pool1d lp_pool2d lp_pool3d pdist",
         "not provided yet"),
        ("ctc_loss multilabel_margin_loss linear_cross_entropy", "losses not "
         "provided yet"),
        ("embedding_bag", "embedding bags: not provided yet"),
        ("conv_tbc grouped_mm scaled_grouped_mm scaled_mm", "GPU-oriented kernels "
         "(time-batch-channel conv, grouped/scaled low-precision matmul)"),
        ("BroadcastingList* DType GRID_SAMPLE_* ScalingType SwizzleType Tensor "
         "assert_int_or_pair boolean_dispatch handle_torch_function "
         "has_torch_function* grad torch Callable *_notes", INTERNAL),
    ],
    "nn": [
        ("AdaptiveAvgPool3d AdaptiveMaxPool3d AvgPool3d Conv3d ConvTranspose3d "
         "MaxPool3d MaxUnpool3d FractionalMaxPool3d LPPool3d", THREEDIM),
        ("Lazy* UninitializedBuffer UninitializedParameter", LAZY),
        ("ReflectionPad* ReplicationPad* CircularPad* ConstantPad* ZeroPad*",
         "padding modules: not provided yet (use F.pad)"),
        ("AlphaDropout FeatureAlphaDropout RReLU ChannelShuffle PixelShuffle "
         "PixelUnshuffle LocalResponseNorm CrossMapLRN2d LPPool1d LPPool2d "
         "MaxUnpool1d MaxUnpool2d FractionalMaxPool2d Fold Unfold EmbeddingBag "
         "AdaptiveLogSoftmaxWithLoss", "modules not provided yet"),
        ("CTCLoss MultiLabelMarginLoss LinearCrossEntropyLoss "
         "LinearCrossEntropyOptions NLLLoss2d", "losses not provided yet "
         "(NLLLoss2d is deprecated: NLLLoss takes N-d input)"),
        ("DataParallel SyncBatchNorm ", "multi-training: CPU only "
         "(DDP over MPI is planned under chainrule.)"),
        ("qat quantizable quantized intrinsic", QUANT),
        ("Container", DEPRECATED),
        ("common_types factory_kwargs grad modules", INTERNAL),
    ],
    "linalg": [
        ("cholesky_ex inv_ex solve_ex lu lu_factor lu_factor_ex lu_solve ldl_factor "
         "ldl_factor_ex ldl_solve qr eig eigvals householder_product lstsq matrix_exp "
         "cond matrix_rank", DECOMP),
        ("multi_dot matrix_power vecdot diagonal tensorinv tensorsolve vander",
         "not provided yet in chainrule.linalg (matrix_power, vander exist at the "
         "top level)"),
        ("LinAlgError", "chainrule.LinAlgError is the top-level error class"),
        ("common_notes", INTERNAL),
    ],
}
