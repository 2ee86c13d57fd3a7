package dev.ditfn.model.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * A pure-Java byte-level BPE tokenizer with Qwen2's rules ({@code Qwen2Tokenizer} / the Qwen2 {@code tokenizer.json}):
 * NFC normalisation; added (special) tokens split out first and never merged; pre-tokenisation with
 * {@link #PRETOKENIZE_REGEX}; UTF-8 bytes mapped through the GPT-2 byte-to-unicode table; merges applied by rank;
 * vocabulary lookup. No native code, so it runs wherever the JVM does.
 *
 * <p>Loads from a tokenizer folder holding either {@code tokenizer.json} (HF tokenizers format; preferred when
 * present) or {@code vocab.json} + {@code merges.txt} + {@code tokenizer_config.json} ({@code added_tokens_decoder},
 * with {@code added_tokens.json} as a fallback). Instances are immutable and thread-safe.
 */
public final class ByteLevelBpeTokenizer {
    /** Qwen2's pre-tokenisation pattern, verbatim from {@code tokenization_qwen2.py}. */
    public static final String PRETOKENIZE_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    /**
     * Java's {@code \s} is ASCII-only unless UNICODE_CHARACTER_CLASS is set; with it {@code \s} is Unicode
     * White_Space, as in Python's {@code regex} module and Oniguruma. {@code \p{L}} and {@code \p{N}} are the Unicode
     * general categories L and N (all of Nd, Nl, No) either way, matched per code point.
     */
    static final Pattern PRETOKENIZE = Pattern.compile(PRETOKENIZE_REGEX, Pattern.UNICODE_CHARACTER_CLASS);

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int CACHE_LIMIT = 50_000;

    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final Map<Character, Integer> CHAR_TO_BYTE = new HashMap<>();

    static {
        // GPT-2 bytes_to_unicode: printable Latin-1 bytes map to themselves, the rest to U+0100 + n in byte order.
        boolean[] direct = new boolean[256];
        for (int b = 0; b < 256; b++) {
            direct[b] = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        }
        int n = 0;
        for (int b = 0; b < 256; b++) {
            BYTE_TO_CHAR[b] = direct[b] ? (char) b : (char) (256 + n++);
            CHAR_TO_BYTE.put(BYTE_TO_CHAR[b], b);
        }
    }

    /** A BPE merge: the two symbols joined. */
    record Pair(String left, String right) {
    }

    private final Map<String, Integer> vocab;
    private final Map<Integer, String> tokensById;
    private final Map<Pair, Integer> ranks;
    private final Map<String, Integer> addedTokens;
    private final Map<Integer, String> addedById;
    private final Pattern addedPattern;
    private final boolean ignoreMerges;
    private final String padToken;
    private final int vocabSize;
    private final Map<String, List<String>> cache = new ConcurrentHashMap<>();

    /**
     * @param vocab byte-level token to id (the BPE vocabulary)
     * @param merges merges in rank order
     * @param addedTokens added/special token content to id (may overlap the vocabulary with the same id)
     * @param padToken the padding token's content, or null for none
     */
    public ByteLevelBpeTokenizer(Map<String, Integer> vocab, List<String[]> merges, Map<String, Integer> addedTokens,
            String padToken) {
        this(vocab, merges, addedTokens, padToken, false);
    }

    private ByteLevelBpeTokenizer(Map<String, Integer> vocab, List<String[]> merges, Map<String, Integer> addedTokens,
            String padToken, boolean ignoreMerges) {
        this.vocab = Collections.unmodifiableMap(new LinkedHashMap<>(vocab));
        this.addedTokens = Collections.unmodifiableMap(new LinkedHashMap<>(addedTokens));
        this.ignoreMerges = ignoreMerges;
        this.padToken = padToken;
        Map<Integer, String> byId = new HashMap<>();
        int maxId = -1;
        for (Map.Entry<String, Integer> e : this.vocab.entrySet()) {
            String previous = byId.put(e.getValue(), e.getKey());
            if (previous != null) {
                throw new IllegalArgumentException("tokenizer vocabulary gives id " + e.getValue() + " to both '"
                        + previous + "' and '" + e.getKey() + "'");
            }
            maxId = Math.max(maxId, e.getValue());
        }
        Map<Integer, String> added = new HashMap<>();
        for (Map.Entry<String, Integer> e : this.addedTokens.entrySet()) {
            if (e.getKey().isEmpty()) {
                throw new IllegalArgumentException("tokenizer has an empty added token (id " + e.getValue() + ")");
            }
            String inVocab = byId.get(e.getValue());
            if (inVocab != null && !inVocab.equals(e.getKey())) {
                throw new IllegalArgumentException("added token '" + e.getKey() + "' has id " + e.getValue()
                        + ", which the vocabulary gives to '" + inVocab + "'");
            }
            added.put(e.getValue(), e.getKey());
            maxId = Math.max(maxId, e.getValue());
        }
        this.tokensById = byId;
        this.addedById = added;
        this.vocabSize = maxId + 1;
        Map<Pair, Integer> r = new HashMap<>();
        for (String[] m : merges) {
            if (m.length != 2) {
                throw new IllegalArgumentException("merge " + Arrays.toString(m) + " does not have two parts");
            }
            r.putIfAbsent(new Pair(m[0], m[1]), r.size());
        }
        this.ranks = r;
        if (padToken != null && !this.addedTokens.containsKey(padToken) && !this.vocab.containsKey(padToken)) {
            throw new IllegalArgumentException("pad token '" + padToken + "' is neither an added token nor in the vocabulary");
        }
        // Longest first, so that a token that is a prefix of another never wins.
        this.addedPattern = this.addedTokens.isEmpty() ? null
                : Pattern.compile(this.addedTokens.keySet().stream().sorted(Comparator.comparingInt(String::length)
                        .reversed()).map(Pattern::quote).collect(Collectors.joining("|")));
    }

    // ---- loading ---------------------------------------------------------------------------------------

    /**
     * Loads the tokenizer in {@code dir}: {@code tokenizer.json} if present, else {@code vocab.json} +
     * {@code merges.txt} (+ {@code tokenizer_config.json} / {@code added_tokens.json} for the added tokens).
     */
    public static ByteLevelBpeTokenizer load(Path dir) {
        Path tokenizerJson = dir.resolve("tokenizer.json");
        if (Files.isRegularFile(tokenizerJson)) {
            return fromTokenizerJson(tokenizerJson, dir.resolve("tokenizer_config.json"));
        }
        Path vocabJson = dir.resolve("vocab.json");
        Path mergesTxt = dir.resolve("merges.txt");
        if (Files.isRegularFile(vocabJson) && Files.isRegularFile(mergesTxt)) {
            return fromVocabAndMerges(vocabJson, mergesTxt, dir.resolve("tokenizer_config.json"),
                    dir.resolve("added_tokens.json"));
        }
        throw new IllegalArgumentException("no tokenizer in " + dir + ": expected tokenizer.json, or vocab.json and merges.txt");
    }

    private static ByteLevelBpeTokenizer fromTokenizerJson(Path file, Path configFile) {
        JsonNode root = readJson(file);
        JsonNode model = root.path("model");
        if (!model.isObject()) {
            throw new IllegalArgumentException(file + " has no 'model' object");
        }
        String type = model.path("type").asText("BPE");
        if (!type.equals("BPE")) {
            throw new IllegalArgumentException(file + ": model.type is '" + type + "', only BPE is supported");
        }
        Map<String, Integer> vocab = vocabFrom(model.path("vocab"), file + " model.vocab");
        JsonNode mergesNode = model.path("merges");
        if (!mergesNode.isArray()) {
            throw new IllegalArgumentException(file + ": model.merges is missing or not a list");
        }
        List<String[]> merges = new ArrayList<>();
        int i = 0;
        for (JsonNode m : mergesNode) {
            if (m.isTextual()) {
                merges.add(splitMerge(m.asText(), file + " model.merges[" + i + "]"));
            } else if (m.isArray() && m.size() == 2 && m.get(0).isTextual() && m.get(1).isTextual()) {
                merges.add(new String[] {m.get(0).asText(), m.get(1).asText()});
            } else {
                throw new IllegalArgumentException(file + " model.merges[" + i + "] is neither \"a b\" nor [\"a\", \"b\"]: " + m);
            }
            i++;
        }
        Map<String, Integer> added = new LinkedHashMap<>();
        for (JsonNode t : root.path("added_tokens")) {
            if (!t.path("content").isTextual() || !t.path("id").canConvertToInt()) {
                throw new IllegalArgumentException(file + ": added token without content/id: " + t);
            }
            added.put(t.path("content").asText(), t.path("id").asInt());
        }
        String pad = Files.isRegularFile(configFile) ? padTokenFrom(readJson(configFile)) : null;
        return new ByteLevelBpeTokenizer(vocab, merges, added, validPad(pad, vocab, added),
                model.path("ignore_merges").asBoolean(false));
    }

    private static ByteLevelBpeTokenizer fromVocabAndMerges(Path vocabFile, Path mergesFile, Path configFile,
            Path addedFile) {
        Map<String, Integer> vocab = vocabFrom(readJson(vocabFile), vocabFile.toString());
        List<String[]> merges = new ArrayList<>();
        try {
            List<String> lines = Files.readAllLines(mergesFile, StandardCharsets.UTF_8);
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i).strip();
                if (line.isEmpty() || (i == 0 && line.startsWith("#version"))) {
                    continue;
                }
                merges.add(splitMerge(line, mergesFile + " line " + (i + 1)));
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + mergesFile + ": " + e.getMessage(), e);
        }
        Map<String, Integer> added = new LinkedHashMap<>();
        String pad = null;
        if (Files.isRegularFile(configFile)) {
            JsonNode config = readJson(configFile);
            JsonNode decoder = config.path("added_tokens_decoder");
            Iterator<Map.Entry<String, JsonNode>> it = decoder.fields();
            while (it.hasNext()) {
                Map.Entry<String, JsonNode> e = it.next();
                int id;
                try {
                    id = Integer.parseInt(e.getKey());
                } catch (NumberFormatException ex) {
                    throw new IllegalArgumentException(configFile + ": added_tokens_decoder key '" + e.getKey()
                            + "' is not an id", ex);
                }
                if (!e.getValue().path("content").isTextual()) {
                    throw new IllegalArgumentException(configFile + ": added_tokens_decoder[" + id + "] has no content");
                }
                added.put(e.getValue().path("content").asText(), id);
            }
            pad = padTokenFrom(config);
        }
        if (added.isEmpty() && Files.isRegularFile(addedFile)) {
            added.putAll(vocabFrom(readJson(addedFile), addedFile.toString()));
        }
        return new ByteLevelBpeTokenizer(vocab, merges, added, validPad(pad, vocab, added), false);
    }

    private static String validPad(String pad, Map<String, Integer> vocab, Map<String, Integer> added) {
        if (pad != null && (added.containsKey(pad) || vocab.containsKey(pad))) {
            return pad;
        }
        return added.containsKey("<|endoftext|>") ? "<|endoftext|>" : null;
    }

    private static String padTokenFrom(JsonNode config) {
        JsonNode pad = config.path("pad_token");
        if (pad.isTextual()) {
            return pad.asText();
        }
        return pad.path("content").isTextual() ? pad.path("content").asText() : null;
    }

    private static String[] splitMerge(String merge, String where) {
        String[] parts = merge.strip().split(" +");
        if (parts.length != 2) {
            throw new IllegalArgumentException(where + ": merge '" + merge + "' does not have two space-separated parts");
        }
        return parts;
    }

    private static Map<String, Integer> vocabFrom(JsonNode node, String where) {
        if (!node.isObject()) {
            throw new IllegalArgumentException(where + " is not a token -> id object");
        }
        Map<String, Integer> vocab = new LinkedHashMap<>();
        Iterator<Map.Entry<String, JsonNode>> it = node.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().canConvertToInt() || e.getValue().asInt() < 0) {
                throw new IllegalArgumentException(where + ": token '" + e.getKey() + "' has id " + e.getValue());
            }
            vocab.put(e.getKey(), e.getValue().asInt());
        }
        return vocab;
    }

    private static JsonNode readJson(Path file) {
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    // ---- encoding --------------------------------------------------------------------------------------

    /** Token ids of {@code text}; no BOS/EOS is added. */
    public long[] encode(String text) {
        return tokenize(text).stream().mapToLong(this::idOf).toArray();
    }

    /** {@link #encode} as a list. */
    public List<Integer> encodeToList(String text) {
        return tokenize(text).stream().map(t -> (int) idOf(t)).toList();
    }

    /**
     * The token strings of {@code text}: added tokens as their content, the rest in byte-level form
     * (a space is {@code Ġ}, a newline {@code Ċ}).
     */
    public List<String> tokenize(String text) {
        String normalised = Normalizer.normalize(text, Normalizer.Form.NFC);
        List<String> out = new ArrayList<>();
        int pos = 0;
        if (addedPattern != null) {
            Matcher m = addedPattern.matcher(normalised);
            while (m.find()) {
                tokenizeOrdinary(normalised.substring(pos, m.start()), out);
                out.add(m.group());
                pos = m.end();
            }
        }
        tokenizeOrdinary(normalised.substring(pos), out);
        return out;
    }

    private void tokenizeOrdinary(String text, List<String> out) {
        if (text.isEmpty()) {
            return;
        }
        Matcher m = PRETOKENIZE.matcher(text);
        while (m.find()) {
            String word = byteLevel(m.group());
            if (ignoreMerges && vocab.containsKey(word)) {
                out.add(word);
                continue;
            }
            List<String> symbols = cache.get(word);
            if (symbols == null) {
                symbols = bpe(word, ranks);
                if (cache.size() >= CACHE_LIMIT) {
                    cache.clear();
                }
                cache.put(word, symbols);
            }
            out.addAll(symbols);
        }
    }

    private long idOf(String token) {
        Integer id = addedTokens.get(token);
        if (id == null) {
            id = vocab.get(token);
        }
        if (id == null) {
            throw new IllegalArgumentException("token '" + token + "' (bytes " + bytesOf(token)
                    + ") is not in the tokenizer vocabulary");
        }
        return id;
    }

    private static String bytesOf(String byteLevelToken) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < byteLevelToken.length(); i++) {
            Integer b = CHAR_TO_BYTE.get(byteLevelToken.charAt(i));
            sb.append(sb.length() == 0 ? "" : " ").append(b == null ? "?" : String.format("%02x", b));
        }
        return sb.toString();
    }

    /** The UTF-8 bytes of {@code text} mapped through the GPT-2 byte-to-unicode table. */
    static String byteLevel(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        char[] chars = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            chars[i] = BYTE_TO_CHAR[bytes[i] & 0xFF];
        }
        return new String(chars);
    }

    /** The byte-level symbol for byte {@code b} (0..255). */
    static char byteSymbol(int b) {
        return BYTE_TO_CHAR[b];
    }

    /**
     * BPE on one pre-token (byte-level string): repeatedly join the adjacent pair of lowest merge rank (all its
     * non-overlapping occurrences, left to right) until no pair has a rank.
     */
    static List<String> bpe(String word, Map<Pair, Integer> ranks) {
        List<String> symbols = new ArrayList<>(word.length());
        for (int i = 0; i < word.length(); i++) {
            symbols.add(String.valueOf(word.charAt(i)));
        }
        while (symbols.size() > 1) {
            int best = Integer.MAX_VALUE;
            Pair bestPair = null;
            for (int i = 0; i + 1 < symbols.size(); i++) {
                Integer r = ranks.get(new Pair(symbols.get(i), symbols.get(i + 1)));
                if (r != null && r < best) {
                    best = r;
                    bestPair = new Pair(symbols.get(i), symbols.get(i + 1));
                }
            }
            if (bestPair == null) {
                break;
            }
            List<String> next = new ArrayList<>(symbols.size());
            for (int i = 0; i < symbols.size(); i++) {
                if (i + 1 < symbols.size() && symbols.get(i).equals(bestPair.left())
                        && symbols.get(i + 1).equals(bestPair.right())) {
                    next.add(bestPair.left() + bestPair.right());
                    i++;
                } else {
                    next.add(symbols.get(i));
                }
            }
            symbols = next;
        }
        return List.copyOf(symbols);
    }

    // ---- decoding and lookup ---------------------------------------------------------------------------

    /** The text of {@code ids}: added tokens as their content, byte-level tokens back to UTF-8 (invalid bytes → U+FFFD). */
    public String decode(long[] ids) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (long id : ids) {
            String added = id >= 0 && id <= Integer.MAX_VALUE ? addedById.get((int) id) : null;
            if (added != null) {
                bytes.writeBytes(added.getBytes(StandardCharsets.UTF_8));
                continue;
            }
            String token = id >= 0 && id <= Integer.MAX_VALUE ? tokensById.get((int) id) : null;
            if (token == null) {
                throw new IllegalArgumentException("token id " + id + " is not in the tokenizer vocabulary");
            }
            for (int i = 0; i < token.length(); i++) {
                Integer b = CHAR_TO_BYTE.get(token.charAt(i));
                if (b == null) {
                    throw new IllegalArgumentException("token " + id + " '" + token + "' is not a byte-level token");
                }
                bytes.write(b);
            }
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPLACE)
                    .onUnmappableCharacter(CodingErrorAction.REPLACE).decode(ByteBuffer.wrap(bytes.toByteArray()))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The id of a token (added-token content or byte-level vocabulary string), or null if there is none. */
    public Integer tokenId(String token) {
        Integer id = addedTokens.get(token);
        return id != null ? id : vocab.get(token);
    }

    /** The token string of {@code id} (added-token content or byte-level form), or null if there is none. */
    public String token(long id) {
        if (id < 0 || id > Integer.MAX_VALUE) {
            return null;
        }
        String added = addedById.get((int) id);
        return added != null ? added : tokensById.get((int) id);
    }

    /** The id of the padding token ({@code pad_token} of tokenizer_config.json, else {@code <|endoftext|>}). */
    public long padTokenId() {
        if (padToken == null) {
            throw new IllegalStateException("this tokenizer has no pad token (no pad_token and no <|endoftext|>)");
        }
        return tokenId(padToken);
    }

    /** One more than the largest id (vocabulary and added tokens): the embedding rows the ids need. */
    public int vocabSize() {
        return vocabSize;
    }

    /** Added (special) tokens, content to id. */
    public Map<String, Integer> addedTokens() {
        return addedTokens;
    }

    /** The byte-level vocabulary, token to id. */
    public Map<String, Integer> vocab() {
        return vocab;
    }

    public int mergeCount() {
        return ranks.size();
    }
}
