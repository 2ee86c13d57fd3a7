package dev.ditfn.dit;

import dev.ditfn.onnx.GraphBuilder;
import dev.ditfn.onnx.GraphTarget;
import dev.ditfn.onnx.WeightCatalog;
import dev.ditfn.onnx.WeightQuantization;

import java.util.List;

/**
 * What a DiT family supplies to be run in segments: its block count, the names of its stream state, and the graph of
 * any {@link TransformerSegment}.
 *
 * <p>Graph contract shared by every family (as Cache-DiT's forward patterns name a block's streams):
 * <ul>
 *   <li>a prologue segment takes the family's model inputs (latent tokens, prompt embeddings, timestep, tables);</li>
 *   <li>every other segment takes the stream state by name ({@link #streams()}, plus conditioning that blocks
 *       share, such as the timestep embedding) and the family's per-request tables;</li>
 *   <li>a segment outputs the state it leaves as {@code <name>_out}, which the next segment reads as
 *       {@code <name>}; the epilogue outputs {@link SegmentedTransformer#VELOCITY};</li>
 *   <li>a prologue-only segment with {@link TransformerSegment#modulatedInput()} also outputs
 *       {@link SegmentedTransformer#PROBE}: block 0's modulated input (TeaCache's probe).</li>
 * </ul>
 */
public interface SegmentGraphs {

    /** Blocks a step cache can skip (Qwen-Image: dual-stream blocks; Z-Image: main layers, not refiners). */
    int blocks();

    /**
     * The stream state a step cache measures and reuses, primary first: DBCache compares the first stream's Fn
     * residual; cached steps add a residual to every stream.
     */
    List<String> streams();

    /** Emits {@code segment}'s graph in full precision; weights are declared from {@code weights}, not read. */
    default GraphBuilder build(GraphTarget target, WeightCatalog weights, TransformerSegment segment) {
        return build(target, weights, segment, WeightQuantization.NONE);
    }

    /**
     * Emits {@code segment}'s graph with its linear weights block-quantized as {@code quantization} says; the family
     * may keep some (embedders, the final projection) in full precision.
     */
    GraphBuilder build(GraphTarget target, WeightCatalog weights, TransformerSegment segment,
            WeightQuantization quantization);
}
