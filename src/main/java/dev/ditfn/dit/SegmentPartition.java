package dev.ditfn.dit;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.TreeSet;

/**
 * A disjoint cut of a DiT into sessions, fixed at load: the prologue, the block ranges between consecutive
 * boundaries, the epilogue. Every weight lives in exactly one of them, so the device holds one copy of the model
 * however many cache settings run over it: a forward is always a chain of these segments.
 */
public final class SegmentPartition {
    private final int blocks;
    private final List<Integer> boundaries;

    /**
     * @param blocks the transformer's block count
     * @param cuts   block indices where a step cache may start or stop skipping (0 and {@code blocks} are added;
     *               out-of-range cuts are refused)
     */
    public SegmentPartition(int blocks, Collection<Integer> cuts) {
        if (blocks < 1) {
            throw new IllegalArgumentException("a transformer needs at least one block, got " + blocks);
        }
        TreeSet<Integer> all = new TreeSet<>(List.of(0, blocks));
        for (int c : cuts) {
            if (c < 0 || c > blocks) {
                throw new IllegalArgumentException("segment boundary " + c + " is outside the transformer's blocks [0, "
                        + blocks + "]");
            }
            all.add(c);
        }
        this.blocks = blocks;
        this.boundaries = List.copyOf(all);
    }

    public int blocks() {
        return blocks;
    }

    /** Block indices where segments start and end, ascending, from 0 to {@link #blocks()}. */
    public List<Integer> boundaries() {
        return boundaries;
    }

    public boolean isBoundary(int block) {
        return boundaries.contains(block);
    }

    public static TransformerSegment prologue() {
        return new TransformerSegment(0, 0, true, false, true);
    }

    public TransformerSegment epilogue() {
        return new TransformerSegment(blocks, blocks, false, true, false);
    }

    /** Every segment of the partition: prologue, block ranges, epilogue. */
    public List<TransformerSegment> segments() {
        List<TransformerSegment> all = new ArrayList<>();
        all.add(prologue());
        all.addAll(ranges(0, blocks));
        all.add(epilogue());
        return all;
    }

    /** The block-range segments that together run blocks {@code [from, to)}; both must be boundaries. */
    public List<TransformerSegment> ranges(int from, int to) {
        if (!isBoundary(from) || !isBoundary(to) || from > to) {
            throw new IllegalArgumentException("blocks [" + from + ", " + to + ") do not fall on the segment boundaries "
                    + boundaries);
        }
        List<TransformerSegment> out = new ArrayList<>();
        for (int i = boundaries.indexOf(from); boundaries.get(i) < to; i++) {
            out.add(new TransformerSegment(boundaries.get(i), boundaries.get(i + 1), false, false, false));
        }
        return out;
    }

    @Override
    public String toString() {
        return "segments at blocks " + boundaries;
    }
}
