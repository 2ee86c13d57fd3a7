package dev.ditfn.dit;

/**
 * A contiguous part of a DiT forward: blocks {@code [from, to)}, optionally preceded by the prologue (input
 * embeddings, timestep embedding) and followed by the epilogue (output norm + projection). The monolithic forward
 * is {@code whole(n)}; step caches run the transformer as several segments built from the same mapped weights.
 *
 * <p>Graph contract (names shared by every DiT family):
 * <ul>
 *   <li>prologue inputs: {@code hidden_states}, {@code encoder_hidden_states}, {@code timestep} (plus the family's
 *       conditioning tables, e.g. RoPE {@code img_cos/img_sin/txt_cos/txt_sin});</li>
 *   <li>other segments take the stream state {@code img}, {@code txt} and the conditioning {@code temb} (+ tables);</li>
 *   <li>a segment without epilogue outputs {@code img_out}, {@code txt_out} (and {@code temb_out} when it has the
 *       prologue); with the epilogue it outputs {@code velocity};</li>
 *   <li>{@code modulatedInput}: also output {@code modulated_input}, block {@code from}'s modulated image input
 *       (TeaCache's probe); with no blocks in the segment it is computed without running block {@code from}.</li>
 * </ul>
 */
public record TransformerSegment(int from, int to, boolean prologue, boolean epilogue, boolean modulatedInput) {

    public TransformerSegment {
        if (from < 0 || to < from) {
            throw new IllegalArgumentException("invalid block range [" + from + ", " + to + ")");
        }
    }

    public static TransformerSegment whole(int blocks) {
        return new TransformerSegment(0, blocks, true, true, false);
    }

    public int blocks() {
        return to - from;
    }

    @Override
    public String toString() {
        return (prologue ? "prologue+" : "") + "[" + from + "," + to + ")" + (epilogue ? "+epilogue" : "")
                + (modulatedInput ? "+modulated_input" : "");
    }
}
