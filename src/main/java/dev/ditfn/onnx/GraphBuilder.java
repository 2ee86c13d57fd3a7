package dev.ditfn.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds one ONNX graph in memory and serialises it as ModelProto bytes.
 *
 * <p>Weights are declared, not embedded: {@link #weight} adds an initializer whose data lives outside the
 * model ({@code data_location = EXTERNAL}); the runtime supplies the bytes by name (memory-mapped
 * safetensors) when it creates the session. Small constants (shapes, axes, scalars) are inlined.
 * Primitive ops are methods here; composites (linear, norms, attention, conv blocks) live in {@link Layers}.
 */
public final class GraphBuilder {
    /** Default-domain opset: Gelu(approximate) needs 20, GroupNormalization per-channel 21. */
    public static final int OPSET = 21;
    public static final int CONTRIB_OPSET = 1;
    static final String CONTRIB_DOMAIN = "com.microsoft";
    private static final long IR_VERSION = 10;

    private final String name;
    private final GraphTarget target;
    private final WeightCatalog weights;
    private final WeightQuantization quantization;
    private final GraphProto.Builder graph = GraphProto.newBuilder();
    private final Map<String, Value> declaredWeights = new LinkedHashMap<>();
    private final Map<String, Value> castWeights = new LinkedHashMap<>();
    /** Quantized weights by the placeholder {@link #weight} returned for them; declared when a linear uses them. */
    private final Map<String, QuantizedWeight> quantizedByPlaceholder = new LinkedHashMap<>();
    private final Map<String, QuantizedWeight> declaredQuantized = new LinkedHashMap<>();
    private boolean usesContrib;
    private int counter;

    public GraphBuilder(String name, GraphTarget target, WeightCatalog weights) {
        this(name, target, weights, WeightQuantization.NONE);
    }

    /**
     * @param quantization which 2-D weights {@link Layers#linear} runs block-quantized ({@code MatMulNBits}); refused
     *     on a target without contrib ops
     */
    public GraphBuilder(String name, GraphTarget target, WeightCatalog weights, WeightQuantization quantization) {
        if (quantization.enabled() && !target.allowsContribOps()) {
            throw new IllegalArgumentException("weight quantization " + quantization + " needs ORT's com.microsoft"
                    + " MatMulNBits, which target " + target + " does not allow (dit.quantization and"
                    + " dit.quantization.text-encoder must be none there)");
        }
        this.name = name;
        this.target = target;
        this.weights = weights;
        this.quantization = quantization;
        graph.setName(name);
    }

    /**
     * A block-quantized linear weight as a graph declares it: initializers {@code packedName} ({@code uint8 [N,
     * k_blocks, blob]}) and {@code scalesName} ({@code [N·k_blocks]} in {@code scaleType}), both supplied by the
     * runtime from {@code source} (see {@code BlockQuantizer}).
     */
    public record QuantizedWeight(TensorSpec source, WeightQuantization quantization, DType scaleType,
            String packedName, String scalesName) {
        public long n() {
            return source.shape()[0];
        }

        public long k() {
            return source.shape()[1];
        }
    }

    public GraphTarget target() {
        return target;
    }

    /** The activation element type of this graph (fp32 on CPU, fp16 on accelerators). */
    public DType act() {
        return target.activationType();
    }

    // ---- graph interface -------------------------------------------------------------------------------

    /** A graph input; each dim is a number or a symbolic name. */
    public Value input(String inputName, DType type, Object... dims) {
        graph.addInput(valueInfo(inputName, type, dims));
        return new Value(inputName);
    }

    /** Marks {@code v} as a graph output called {@code outputName} (an Identity renames it if needed). */
    public void output(Value v, String outputName, DType type, Object... dims) {
        Value out = v;
        if (!v.name().equals(outputName)) {
            graph.addNode(NodeProto.newBuilder().setOpType("Identity").setName(outputName + "/rename")
                    .addInput(v.name()).addOutput(outputName));
            out = new Value(outputName);
        }
        graph.addOutput(valueInfo(out.name(), type, dims));
    }

    /**
     * A weight tensor from the catalog, declared as an external initializer and cast to the activation
     * type when stored differently. Each weight is declared once however often it is used.
     *
     * @param expectedShape the shape the architecture requires; a mismatch fails naming tensor and file
     */
    public Value weight(String tensorName, long... expectedShape) {
        TensorSpec spec = weights.spec(tensorName);
        if (!Arrays.equals(spec.shape(), expectedShape)) {
            throw new IllegalArgumentException("tensor '" + tensorName + "' in " + spec.source() + " has shape "
                    + spec.shapeString() + ", expected " + Arrays.toString(expectedShape));
        }
        if (quantization.appliesTo(tensorName, expectedShape)) {
            String placeholder = tensorName + "#quantized";
            quantizedByPlaceholder.computeIfAbsent(placeholder, p -> new QuantizedWeight(spec, quantization, act(),
                    tensorName + ".q" + quantization.bits() + "_b" + quantization.blockSize(),
                    tensorName + ".q" + quantization.bits() + "_b" + quantization.blockSize() + "_scales"));
            return new Value(placeholder);
        }
        Value raw = declaredWeights.computeIfAbsent(tensorName, n -> declareExternal(spec));
        if (spec.type() == act()) {
            return raw;
        }
        return castWeights.computeIfAbsent(tensorName, n -> cast(raw, act()));
    }

    /** Names of the external initializers this graph needs, in declaration order. */
    public List<String> weightNames() {
        return List.copyOf(declaredWeights.keySet());
    }

    /** The quantized weights this graph uses (the runtime supplies their initializers), in declaration order. */
    public List<QuantizedWeight> quantizedWeights() {
        return List.copyOf(declaredQuantized.values());
    }

    public WeightQuantization quantization() {
        return quantization;
    }

    /**
     * The quantized weight behind {@code weight} when {@link #weight} returned a placeholder for it, declaring its
     * initializers on first use; null for an ordinary value.
     */
    QuantizedWeight quantized(Value weight) {
        QuantizedWeight q = quantizedByPlaceholder.get(weight.name());
        if (q != null && !declaredQuantized.containsKey(q.packedName())) {
            declaredQuantized.put(q.packedName(), q);
            long blocks = q.quantization().blocks(q.k());
            declarePlaceholder(q.packedName(), DType.UINT8, q.source(),
                    new long[] {q.n(), blocks, q.quantization().blobBytes()});
            declarePlaceholder(q.scalesName(), q.scaleType(), q.source(), new long[] {q.n() * blocks});
        }
        return q;
    }

    /**
     * An initializer whose bytes the runtime supplies by name (addInitializer). ONNX wants a data location, so it
     * points at the start of the source tensor's region in its file; ORT never reads it.
     */
    private void declarePlaceholder(String initializer, DType type, TensorSpec source, long[] shape) {
        long bytes = type.byteSize();
        for (long d : shape) {
            bytes = Math.multiplyExact(bytes, d);
        }
        TensorProto.Builder t = TensorProto.newBuilder().setName(initializer).setDataType(type.onnxCode())
                .setDataLocation(TensorProto.DataLocation.EXTERNAL)
                .addExternalData(entry("location", java.nio.file.Path.of(source.source()).getFileName().toString()))
                .addExternalData(entry("offset", Long.toString(source.offset())))
                .addExternalData(entry("length", Long.toString(bytes)));
        for (long d : shape) {
            t.addDims(d);
        }
        graph.addInitializer(t);
    }

    public boolean hasWeight(String tensorName) {
        return weights.contains(tensorName);
    }

    private Value declareExternal(TensorSpec spec) {
        // Points at the tensor's bytes in its safetensors file (relative to the weights folder). The runtime hands
        // ORT the mapped data under the same name, so ORT never reads the file itself.
        TensorProto.Builder t = TensorProto.newBuilder().setName(spec.name()).setDataType(spec.type().onnxCode())
                .setDataLocation(TensorProto.DataLocation.EXTERNAL)
                .addExternalData(entry("location", java.nio.file.Path.of(spec.source()).getFileName().toString()))
                .addExternalData(entry("offset", Long.toString(spec.offset())))
                .addExternalData(entry("length", Long.toString(spec.byteSize())));
        for (long d : spec.shape()) {
            t.addDims(d);
        }
        graph.addInitializer(t);
        return new Value(spec.name());
    }

    private static StringStringEntryProto entry(String key, String value) {
        return StringStringEntryProto.newBuilder().setKey(key).setValue(value).build();
    }

    // ---- constants -------------------------------------------------------------------------------------

    public Value constLongs(long... values) {
        ByteBuffer buf = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            buf.putLong(v);
        }
        return inlineTensor(DType.INT64, new long[] {values.length}, buf.array());
    }

    /** A float tensor of the given shape, stored in the activation type. */
    public Value constFloats(float[] values, long... shape) {
        Value f32 = inlineTensor(DType.FLOAT32, shape, floatBytes(values));
        return act() == DType.FLOAT32 ? f32 : cast(f32, act());
    }

    /** A scalar in the activation type (broadcasts against anything). */
    public Value scalar(float value) {
        return constFloats(new float[] {value});
    }

    /** A float32 scalar regardless of target, for math kept in fp32. */
    public Value scalarF32(float value) {
        return inlineTensor(DType.FLOAT32, new long[0], floatBytes(new float[] {value}));
    }

    private static byte[] floatBytes(float[] values) {
        ByteBuffer buf = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            buf.putFloat(v);
        }
        return buf.array();
    }

    private Value inlineTensor(DType type, long[] shape, byte[] raw) {
        String n = fresh("const");
        TensorProto.Builder t = TensorProto.newBuilder().setName(n).setDataType(type.onnxCode())
                .setRawData(ByteString.copyFrom(raw));
        for (long d : shape) {
            t.addDims(d);
        }
        graph.addInitializer(t);
        return new Value(n);
    }

    // ---- generic nodes ---------------------------------------------------------------------------------

    /** One node with one output. A {@code null} input stands for an omitted optional input. */
    public Value op(String opType, List<Value> inputs, AttributeProto... attrs) {
        return opN(opType, "", inputs, 1, attrs)[0];
    }

    public Value contribOp(String opType, List<Value> inputs, AttributeProto... attrs) {
        if (!target.allowsContribOps()) {
            throw new IllegalStateException(opType + " is a com.microsoft op, not allowed for target " + target);
        }
        usesContrib = true;
        return opN(opType, CONTRIB_DOMAIN, inputs, 1, attrs)[0];
    }

    public Value[] opN(String opType, String domain, List<Value> inputs, int outputs, AttributeProto... attrs) {
        String base = fresh(opType);
        NodeProto.Builder node = NodeProto.newBuilder().setOpType(opType).setName(base).setDomain(domain);
        for (Value in : inputs) {
            node.addInput(in == null ? "" : in.name());
        }
        Value[] outs = new Value[outputs];
        for (int i = 0; i < outputs; i++) {
            outs[i] = new Value(outputs == 1 ? base : base + ":" + i);
            node.addOutput(outs[i].name());
        }
        for (AttributeProto a : attrs) {
            node.addAttribute(a);
        }
        graph.addNode(node);
        return outs;
    }

    private String fresh(String prefix) {
        return prefix + "_" + (counter++);
    }

    // ---- primitive ops ---------------------------------------------------------------------------------

    public Value matMul(Value a, Value b) {
        return op("MatMul", List.of(a, b));
    }

    /** Gemm for 2-D operands: {@code a · bᵀ + c} when {@code transB}. */
    public Value gemm(Value a, Value b, Value c, boolean transB) {
        return op("Gemm", Arrays.asList(a, b, c), Attr.of("transB", transB ? 1L : 0L));
    }

    public Value add(Value a, Value b) {
        return op("Add", List.of(a, b));
    }

    public Value sub(Value a, Value b) {
        return op("Sub", List.of(a, b));
    }

    public Value mul(Value a, Value b) {
        return op("Mul", List.of(a, b));
    }

    public Value div(Value a, Value b) {
        return op("Div", List.of(a, b));
    }

    public Value pow(Value a, Value b) {
        return op("Pow", List.of(a, b));
    }

    public Value neg(Value a) {
        return op("Neg", List.of(a));
    }

    public Value sqrt(Value a) {
        return op("Sqrt", List.of(a));
    }

    public Value reciprocal(Value a) {
        return op("Reciprocal", List.of(a));
    }

    public Value exp(Value a) {
        return op("Exp", List.of(a));
    }

    public Value tanh(Value a) {
        return op("Tanh", List.of(a));
    }

    public Value sigmoid(Value a) {
        return op("Sigmoid", List.of(a));
    }

    public Value cos(Value a) {
        return op("Cos", List.of(a));
    }

    public Value sin(Value a) {
        return op("Sin", List.of(a));
    }

    public Value max(Value a, Value b) {
        return op("Max", List.of(a, b));
    }

    /** x · sigmoid(x). */
    public Value silu(Value x) {
        return mul(x, sigmoid(x));
    }

    /** GELU with the tanh approximation (ONNX Gelu-20, {@code approximate="tanh"}). */
    public Value geluTanh(Value x) {
        return op("Gelu", List.of(x), Attr.of("approximate", "tanh"));
    }

    /** Exact GELU, {@code 0.5·x·(1 + erf(x/√2))} (ONNX Gelu-20, default {@code approximate="none"}; torch's nn.GELU()). */
    public Value gelu(Value x) {
        return op("Gelu", List.of(x));
    }

    public Value cast(Value x, DType to) {
        return op("Cast", List.of(x), Attr.of("to", (long) to.onnxCode()));
    }

    public Value clip(Value x, float lo, float hi) {
        return op("Clip", List.of(x, scalar(lo), scalar(hi)));
    }

    public Value softmax(Value x, long axis) {
        return op("Softmax", List.of(x), Attr.of("axis", axis));
    }

    public Value reduceMean(Value x, long... axes) {
        return op("ReduceMean", List.of(x, constLongs(axes)), Attr.of("keepdims", 1L));
    }

    public Value reduceSum(Value x, long... axes) {
        return op("ReduceSum", List.of(x, constLongs(axes)), Attr.of("keepdims", 1L));
    }

    public Value reshape(Value x, long... shape) {
        return op("Reshape", List.of(x, constLongs(shape)));
    }

    public Value reshape(Value x, Value shape) {
        return op("Reshape", List.of(x, shape));
    }

    public Value transpose(Value x, long... perm) {
        return op("Transpose", List.of(x), Attr.ints("perm", perm));
    }

    public Value concat(long axis, Value... parts) {
        return op("Concat", List.of(parts), Attr.of("axis", axis));
    }

    /** Splits {@code x} along {@code axis} into pieces of the given sizes. */
    public Value[] split(Value x, long axis, long... sizes) {
        return opN("Split", "", List.of(x, constLongs(sizes)), sizes.length, Attr.of("axis", axis));
    }

    public Value slice(Value x, long axis, long start, long end) {
        return op("Slice", List.of(x, constLongs(start), constLongs(end), constLongs(axis)));
    }

    public Value gather(Value data, Value indices, long axis) {
        return op("Gather", List.of(data, indices), Attr.of("axis", axis));
    }

    /**
     * ONNX ScatterND: a copy of {@code data} whose slices at {@code indices [N, k]} (int64, k leading axes) are
     * replaced by {@code updates} (shape {@code [N] + data.shape[k:]}).
     */
    public Value scatterNd(Value data, Value indices, Value updates) {
        return op("ScatterND", List.of(data, indices, updates));
    }

    public Value unsqueeze(Value x, long... axes) {
        return op("Unsqueeze", List.of(x, constLongs(axes)));
    }

    public Value squeeze(Value x, long... axes) {
        return op("Squeeze", List.of(x, constLongs(axes)));
    }

    public Value expand(Value x, Value shape) {
        return op("Expand", List.of(x, shape));
    }

    public Value shape(Value x) {
        return op("Shape", List.of(x));
    }

    /** ONNX LayerNormalization over the last axis with the given scale and bias. */
    public Value layerNormalization(Value x, Value scale, Value bias, float eps) {
        return op("LayerNormalization", Arrays.asList(x, scale, bias), Attr.of("axis", -1L), Attr.of("epsilon", eps));
    }

    /** N-d convolution; {@code pads} as ONNX orders them (all begins, then all ends). */
    public Value conv(Value x, Value w, Value b, long[] strides, long[] pads, long group) {
        return op("Conv", Arrays.asList(x, w, b), Attr.ints("strides", strides), Attr.ints("pads", pads),
                Attr.of("group", group));
    }

    /** Constant zero padding; {@code pads} lists all begins then all ends, one pair per axis. */
    public Value pad(Value x, long... pads) {
        return op("Pad", List.of(x, constLongs(pads)), Attr.of("mode", "constant"));
    }

    /** Nearest-neighbour upsampling by integer {@code factors} per axis (output i reads input ⌊i/f⌋). */
    public Value upsampleNearest(Value x, float... factors) {
        Value scales = inlineTensor(DType.FLOAT32, new long[] {factors.length}, floatBytes(factors));
        return op("Resize", Arrays.asList(x, null, scales), Attr.of("mode", "nearest"),
                Attr.of("coordinate_transformation_mode", "asymmetric"), Attr.of("nearest_mode", "floor"));
    }

    // ---- serialisation ---------------------------------------------------------------------------------

    public byte[] toModelBytes() {
        for (NodeProto node : graph.getNodeList()) {
            for (String in : node.getInputList()) {
                if (quantizedByPlaceholder.containsKey(in)) {
                    throw new IllegalStateException("weight '" + quantizedByPlaceholder.get(in).source().name()
                            + "' is quantized but " + node.getOpType() + " node " + node.getName()
                            + " uses it directly; only a linear can use a quantized weight");
                }
            }
        }
        ModelProto.Builder model = ModelProto.newBuilder().setIrVersion(IR_VERSION).setProducerName("dit-fn")
                .setGraph(graph.clone().setName(name))
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET));
        if (usesContrib) {
            model.addOpsetImport(OperatorSetIdProto.newBuilder().setDomain(CONTRIB_DOMAIN).setVersion(CONTRIB_OPSET));
        }
        return model.build().toByteArray();
    }

    public int nodeCount() {
        return graph.getNodeCount();
    }

    private static ValueInfoProto valueInfo(String name, DType type, Object... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (Object d : dims) {
            TensorShapeProto.Dimension.Builder dim = TensorShapeProto.Dimension.newBuilder();
            if (d instanceof Number n) {
                dim.setDimValue(n.longValue());
            } else if (d instanceof String s) {
                dim.setDimParam(s);
            } else {
                throw new IllegalArgumentException("dimension must be a number or a symbolic name: " + d);
            }
            shape.addDim(dim);
        }
        TypeProto.Tensor tensor = TypeProto.Tensor.newBuilder().setElemType(type.onnxCode()).setShape(shape).build();
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(tensor)).build();
    }

    /** For tests and debugging: the inputs' names in order. */
    public List<String> inputNames() {
        return Collections.unmodifiableList(graph.getInputList().stream().map(ValueInfoProto::getName).toList());
    }
}
