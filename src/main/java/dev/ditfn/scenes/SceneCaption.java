package dev.ditfn.scenes;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * Captions of scenes, and their strict parser. Grammar (lower case, single spaces):
 * <pre>
 * caption    = objects " on " article colour " background"
 *            | article colour " background with " objects
 * objects    = object | object " and " object
 * object     = article [size " "] colour " " shape [" " position]
 * </pre>
 * where {@code article} is {@code an} before a vowel and {@code a} otherwise. An omitted size means
 * {@link SceneSize#DEFAULT}; an omitted position means {@link SceneCell#DEFAULT} and is allowed for a single object
 * only. So a caption determines its scene, and {@code parse(caption(s, p))} is {@code s} for every phrasing.
 */
public final class SceneCaption {
    private SceneCaption() {
    }

    /** {@code scene} worded by {@code phrasing}. */
    public static String caption(Scene scene, Phrasing phrasing) {
        boolean single = scene.objects().size() == 1;
        List<String> objects = new ArrayList<>();
        for (SceneObject o : scene.objects()) {
            StringBuilder words = new StringBuilder();
            if (phrasing.explicitSizes() || o.size() != SceneSize.DEFAULT) {
                words.append(o.size().word()).append(' ');
            }
            words.append(o.colour().word()).append(' ').append(o.shape().word());
            if (!single || phrasing.explicitPositions() || o.cell() != SceneCell.DEFAULT) {
                words.append(' ').append(o.cell().phrase());
            }
            objects.add(withArticle(words.toString()));
        }
        String things = String.join(" and ", objects);
        String background = withArticle(scene.background().word() + " background");
        return phrasing.backgroundFirst() ? background + " with " + things : things + " on " + background;
    }

    /** The fully stated caption: one string per scene, for hashing and comparing. */
    public static String canonical(Scene scene) {
        return caption(scene, Phrasing.CANONICAL);
    }

    /** The scene {@code caption} describes, or empty if it does not follow the grammar exactly. */
    public static Optional<Scene> parse(String caption) {
        return new Parser(caption).scene();
    }

    /**
     * Texts holding every word any caption uses, each both after a space and first (a caption's first word follows
     * the template's newline), for a tokenizer that should make each caption word one token.
     */
    public static List<String> vocabulary() {
        Set<String> words = new LinkedHashSet<>(List.of("a", "an", "and", "on", "with", "background"));
        for (SceneColour c : SceneColour.values()) {
            words.add(c.word());
        }
        for (SceneShape s : SceneShape.values()) {
            words.add(s.word());
        }
        for (SceneSize s : SceneSize.values()) {
            words.add(s.word());
        }
        for (SceneCell c : SceneCell.values()) {
            words.addAll(Arrays.asList(c.phrase().split(" ")));
        }
        List<String> texts = new ArrayList<>();
        for (String w : words) {
            texts.add(w);
            texts.add(" " + w);
        }
        return texts;
    }

    private static String withArticle(String words) {
        return ("aeiou".indexOf(words.charAt(0)) >= 0 ? "an " : "a ") + words;
    }

    /** A cursor over a caption's words; a {@code read} method that returns null or false fails the whole parse. */
    private static final class Parser {
        private final String[] words;
        private int at;

        Parser(String caption) {
            this.words = caption.split(" ", -1);
        }

        Optional<Scene> scene() {
            try {
                return Optional.ofNullable(readScene()).filter(s -> at == words.length);
            } catch (IllegalArgumentException invalidScene) {
                // Grammatical but impossible (duplicate cell, object coloured like the background).
                return Optional.empty();
            }
        }

        private Scene readScene() {
            SceneColour background;
            List<PartialObject> objects;
            if (at + 3 < words.length && words[at + 2].equals("background") && words[at + 3].equals("with")) {
                background = readBackground();
                read("with");
                objects = readObjects();
            } else {
                objects = readObjects();
                if (objects == null || !read("on")) {
                    return null;
                }
                background = readBackground();
            }
            if (objects == null || background == null) {
                return null;
            }
            boolean single = objects.size() == 1;
            List<SceneObject> placed = new ArrayList<>();
            for (PartialObject o : objects) {
                if (o.cell == null && !single) {
                    return null;
                }
                placed.add(new SceneObject(o.shape, o.colour, o.size, o.cell == null ? SceneCell.DEFAULT : o.cell));
            }
            return new Scene(background, placed);
        }

        private SceneColour readBackground() {
            if (!readArticle()) {
                return null;
            }
            SceneColour colour = readWord(SceneColour.values(), SceneColour::word);
            return colour != null && read("background") ? colour : null;
        }

        private List<PartialObject> readObjects() {
            List<PartialObject> objects = new ArrayList<>();
            PartialObject first = readObject();
            if (first == null) {
                return null;
            }
            objects.add(first);
            if (read("and")) {
                PartialObject second = readObject();
                if (second == null) {
                    return null;
                }
                objects.add(second);
            }
            return objects;
        }

        private PartialObject readObject() {
            if (!readArticle()) {
                return null;
            }
            SceneSize size = readWord(SceneSize.values(), SceneSize::word);
            SceneColour colour = readWord(SceneColour.values(), SceneColour::word);
            SceneShape shape = readWord(SceneShape.values(), SceneShape::word);
            if (colour == null || shape == null) {
                return null;
            }
            return new PartialObject(shape, colour, size == null ? SceneSize.DEFAULT : size, readCell());
        }

        /** The longest cell phrase that follows ({@code at the top left} before {@code at the top}). */
        private SceneCell readCell() {
            SceneCell best = null;
            int bestLength = 0;
            for (SceneCell c : SceneCell.values()) {
                String[] phrase = c.phrase().split(" ");
                if (phrase.length > bestLength && matches(phrase)) {
                    best = c;
                    bestLength = phrase.length;
                }
            }
            at += bestLength;
            return best;
        }

        private boolean matches(String[] phrase) {
            if (at + phrase.length > words.length) {
                return false;
            }
            for (int i = 0; i < phrase.length; i++) {
                if (!words[at + i].equals(phrase[i])) {
                    return false;
                }
            }
            return true;
        }

        /** Reads {@code a} or {@code an}, whichever the next word calls for. */
        private boolean readArticle() {
            if (at + 1 >= words.length) {
                return false;
            }
            String next = words[at + 1];
            boolean vowel = !next.isEmpty() && "aeiou".indexOf(next.charAt(0)) >= 0;
            return read(vowel ? "an" : "a");
        }

        private <T> T readWord(T[] options, Function<T, String> word) {
            if (at < words.length) {
                for (T option : options) {
                    if (word.apply(option).equals(words[at])) {
                        at++;
                        return option;
                    }
                }
            }
            return null;
        }

        private boolean read(String word) {
            if (at < words.length && words[at].equals(word)) {
                at++;
                return true;
            }
            return false;
        }
    }

    /** An object as read, its position possibly not yet stated. */
    private record PartialObject(SceneShape shape, SceneColour colour, SceneSize size, SceneCell cell) {
    }
}
