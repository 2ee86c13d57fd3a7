package dev.ditfn.testing;

import io.restassured.RestAssured;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.DoublePredicate;

import static io.restassured.RestAssured.given;

/** The application's Prometheus metrics, read over HTTP as a scraper would. */
public final class Scrape {
    private final Map<String, Double> samples;

    private Scrape(Map<String, Double> samples) {
        this.samples = samples;
    }

    /** Reads {@code /q/metrics} of the application under test. */
    public static Scrape now() {
        String text = given().get("/q/metrics").then().statusCode(200).extract().asString();
        Map<String, Double> samples = new HashMap<>();
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int space = line.lastIndexOf(' ');
            samples.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
        }
        return new Scrape(samples);
    }

    /** A series by its exposition name, labels in the scrape's (alphabetical) order; 0 when absent. */
    public double value(String series) {
        return samples.getOrDefault(series, 0.0);
    }

    public boolean has(String series) {
        return samples.containsKey(series);
    }

    /** Scrapes until {@code series} satisfies {@code condition}, at most {@code limit}; returns that scrape. */
    public static Scrape await(String series, DoublePredicate condition, Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        Scrape s = now();
        while (!condition.test(s.value(series))) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(series + " did not reach the expected value within " + limit + "; last: "
                        + s.value(series) + " (port " + RestAssured.port + ")");
            }
            Thread.sleep(20);
            s = now();
        }
        return s;
    }
}
