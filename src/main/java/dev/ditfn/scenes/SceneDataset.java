package dev.ditfn.scenes;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ditfn.model.text.ByteLevelBpeTokenizer;
import dev.ditfn.model.text.PromptTemplate;
import dev.ditfn.model.text.TinyTokenizer;

import java.io.BufferedOutputStream;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;

/**
 * A captioned training or evaluation set of rendered scenes, as files a Python trainer reads without Java:
 * <ul>
 * <li>{@code images.u8}: {@code count * size * size * 3} bytes, image {@code i} at offset {@code i * size * size * 3},
 * interleaved RGB, row-major;</li>
 * <li>{@code captions.jsonl}: per image, in order, {@code {"caption": ..., "ids": [...]}}, the ids being the
 * Qwen-Image template around the caption, tokenized with {@link #tokenizer()};</li>
 * <li>{@code tokenizer/}: that tokenizer's files;</li>
 * <li>{@code meta.json}: split, count, seed, size, {@code vocab_size}, {@code negative_ids} (the template around a
 * single space, the empty negative prompt) and {@code drop_index} (template rows dropped before the transformer).</li>
 * </ul>
 *
 * @param split which scenes
 * @param count how many images
 * @param seed  the sampler's seed
 * @param size  image side in pixels
 */
public record SceneDataset(SceneSplit split, int count, long seed, int size) {
    public SceneDataset {
        if (count < 1) {
            throw new IllegalArgumentException("count must be at least 1, got " + count);
        }
        SceneRenderer.checkSize(size);
    }

    /** The default tiny tokenizer plus every caption word as a single token. */
    public static TinyTokenizer tokenizer() {
        return TinyTokenizer.withWords(SceneCaption.vocabulary());
    }

    /** Writes the data set into {@code dir} (created if missing), printing progress every tenth to {@code log}. */
    public void write(Path dir, PrintStream log) throws IOException {
        Files.createDirectories(dir);
        TinyTokenizer tiny = tokenizer();
        tiny.writeTo(dir.resolve("tokenizer"));
        ByteLevelBpeTokenizer bpe = tiny.bpe();
        PromptTemplate template = PromptTemplate.QWEN_IMAGE;
        ObjectMapper json = new ObjectMapper();
        // Captions repeat a lot; tokenizing each once keeps the writer bound by rendering.
        Map<String, long[]> idsByCaption = new HashMap<>();
        Iterator<CaptionedScene> scenes = new SceneSampler(seed).stream(split).limit(count).iterator();
        try (OutputStream images = new BufferedOutputStream(Files.newOutputStream(dir.resolve("images.u8")), 1 << 20);
                BufferedWriter captions = Files.newBufferedWriter(dir.resolve("captions.jsonl"),
                        StandardCharsets.UTF_8)) {
            for (int i = 0; i < count; i++) {
                CaptionedScene s = scenes.next();
                images.write(SceneRenderer.render(s.scene(), size).rgb());
                ObjectNode line = json.createObjectNode().put("caption", s.caption());
                long[] ids = idsByCaption.computeIfAbsent(s.caption(), c -> template.templateIds(bpe, c));
                putIds(line, "ids", ids);
                captions.write(json.writeValueAsString(line));
                captions.write('\n');
                if ((i + 1) % Math.max(1, count / 10) == 0 || i + 1 == count) {
                    log.printf("scenes: %d/%d%n", i + 1, count);
                }
            }
        }
        ObjectNode meta = json.createObjectNode();
        meta.put("split", split.name().toLowerCase(Locale.ROOT));
        meta.put("count", count);
        meta.put("seed", seed);
        meta.put("size", size);
        meta.put("vocab_size", tiny.vocabSize());
        putIds(meta, "negative_ids", template.templateIds(bpe, " "));
        meta.put("drop_index", template.dropIndex());
        json.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("meta.json").toFile(), meta);
    }

    private static void putIds(ObjectNode node, String field, long[] ids) {
        ArrayNode array = node.putArray(field);
        for (long id : ids) {
            array.add(id);
        }
    }
}
