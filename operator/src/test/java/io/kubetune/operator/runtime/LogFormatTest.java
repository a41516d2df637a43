package io.kubetune.operator.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Checks the shipped logback.xml: each format carries the resource JOSDK puts in the MDC. */
class LogFormatTest {

  private static final Map<String, String> JOSDK_MDC =
      Map.of(
          "resource.kind", "FineTuneJob",
          "resource.name", "llama-support",
          "resource.namespace", "team-a",
          "resource.generation", "3");

  @Test
  void jsonLinesCarryTheResourceFromTheMdc() throws Exception {
    String line = encode("json");
    JsonNode json = new ObjectMapper().readTree(line);
    assertEquals("INFO", json.path("level").asText());
    assertEquals("reconciled in 12 ms", json.path("formattedMessage").asText());
    assertEquals("llama-support", json.path("mdc").path("resource.name").asText(), line);
    assertEquals("team-a", json.path("mdc").path("resource.namespace").asText(), line);
    assertEquals("FineTuneJob", json.path("mdc").path("resource.kind").asText(), line);
    assertTrue(line.endsWith("\n"), "one object per line");
  }

  @Test
  void textLinesNameTheResource() throws Exception {
    String line = encode("text");
    assertTrue(line.contains("team-a/llama-support - reconciled in 12 ms"), line);
  }

  private static String encode(String format) throws Exception {
    LoggerContext context = new LoggerContext();
    context.putProperty("kubetune.log.format", format);
    JoranConfigurator configurator = new JoranConfigurator();
    configurator.setContext(context);
    URL config = LogFormatTest.class.getResource("/logback.xml");
    assertNotNull(config, "logback.xml missing from the classpath");
    configurator.doConfigure(config);
    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    OutputStreamAppender<ILoggingEvent> appender =
        (OutputStreamAppender<ILoggingEvent>) root.getAppender(format);
    assertNotNull(appender, "root logger has no '" + format + "' appender");
    LoggingEvent event =
        new LoggingEvent(
            Logger.class.getName(),
            context.getLogger("io.kubetune.operator.finetune.FineTuneJobReconciler"),
            Level.INFO,
            "reconciled in {} ms",
            null,
            new Object[] {12});
    event.setMDCPropertyMap(JOSDK_MDC);
    String line = new String(appender.getEncoder().encode(event), StandardCharsets.UTF_8);
    context.stop();
    return line;
  }
}
