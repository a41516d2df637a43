package io.kubetune.operator.modelserver;

/**
 * A DJL Serving management or inference call failed. Carries a {@link Reason} a user can act on,
 * the HTTP status (0 when no response arrived) and the server's message.
 */
public final class DjlServingException extends Exception {

  /** Why a call failed; {@link #reason()} is the CamelCase text used in status conditions. */
  public enum Reason {
    /** 400 "LoRA is not enabled.": the model was started without option.enable_lora. */
    LORA_NOT_ENABLED(
        "LoraNotEnabled", "start the model with option.enable_lora=true (spec.lora settings)"),
    /** Any other 400: a parameter is missing or invalid. */
    MISSING_PARAMETER(
        "MissingParameter", "the request was rejected; check the adapter name and path"),
    /** 404 for the model: the base model is not (yet) loaded under that name. */
    MODEL_NOT_FOUND("ModelNotFound", "wait for the base model to load, or check its served name"),
    /** 404 for an adapter: it is not registered on this server. */
    ADAPTER_NOT_FOUND("AdapterNotFound", "the adapter is not registered; it will be registered"),
    /** 409: an adapter with that name is already registered. */
    ADAPTER_ALREADY_REGISTERED(
        "AdapterAlreadyRegistered", "an adapter with this name is already registered"),
    /** 424: the model's handler failed to load the adapter. */
    ADAPTER_LOAD_FAILED(
        "AdapterLoadFailed",
        "the server could not load the adapter; check that its files match the base model"),
    /** 424 on update or unregister: the handler rejected the change. */
    HANDLER_ERROR("HandlerError", "the model handler rejected the request"),
    /** 507: all LoRA slots (option.max_loras) are in use. */
    NO_FREE_LORA_SLOTS(
        "NoFreeLoraSlots",
        "all LoRA slots are in use; raise spec.lora.maxLoras or remove adapters"),
    /** 503: the server or its worker is not ready. */
    SERVER_UNAVAILABLE("ServerUnavailable", "the model server is not ready; it will be retried"),
    /** Another 5xx. */
    SERVER_ERROR("ServerError", "the model server failed; see its logs"),
    /** A status the contract does not define. */
    UNEXPECTED_STATUS("UnexpectedStatus", "the model server answered unexpectedly; see its logs"),
    /** A success status with a body that does not follow the contract. */
    INVALID_RESPONSE(
        "InvalidResponse", "the model server's answer could not be read; check its version"),
    /** The connection was refused or dropped. */
    SERVER_UNREACHABLE(
        "ServerUnreachable", "the model server's management port cannot be reached; it will retry"),
    /** No answer within the request timeout. */
    TIMEOUT("Timeout", "the model server did not answer in time; it will be retried"),
    /** The calling thread was interrupted (the operator is stopping or the pod budget ran out). */
    INTERRUPTED("Interrupted", "the call was cancelled; it will be retried");

    private final String reason;
    private final String hint;

    Reason(String reason, String hint) {
      this.reason = reason;
      this.hint = hint;
    }

    /** Returns the CamelCase reason for status conditions, e.g. {@code NoFreeLoraSlots}. */
    public String reason() {
      return reason;
    }

    /** Returns what the user can do about it. */
    public String hint() {
      return hint;
    }

    /**
     * Returns true for failures that may clear by themselves: the server is starting, restarting or
     * overloaded, or the base model is still loading.
     */
    public boolean isTransient() {
      return switch (this) {
        case MODEL_NOT_FOUND,
            SERVER_UNAVAILABLE,
            SERVER_UNREACHABLE,
            TIMEOUT,
            INTERRUPTED,
            SERVER_ERROR ->
            true;
        default -> false;
      };
    }
  }

  private final Reason reason;
  private final int httpStatus;
  private final String serverMessage;

  /**
   * Creates the exception.
   *
   * @param reason why it failed
   * @param httpStatus the HTTP status, 0 when no response arrived
   * @param operation what was attempted, e.g. {@code register adapter a on http://10.0.0.5:8081}
   * @param serverMessage the server's message or the I/O error, never null
   * @param cause the underlying exception, may be null
   */
  public DjlServingException(
      Reason reason, int httpStatus, String operation, String serverMessage, Throwable cause) {
    super(
        operation
            + " failed: "
            + reason.reason()
            + (httpStatus > 0 ? " (HTTP " + httpStatus + ")" : "")
            + ": "
            + serverMessage,
        cause);
    this.reason = reason;
    this.httpStatus = httpStatus;
    this.serverMessage = serverMessage;
  }

  /** Returns why the call failed. */
  public Reason reason() {
    return reason;
  }

  /** Returns the HTTP status, 0 when no response arrived. */
  public int httpStatus() {
    return httpStatus;
  }

  /** Returns the server's message (or the I/O error). */
  public String serverMessage() {
    return serverMessage;
  }

  /** Returns a message for a user: what failed, the server's words and what to do. */
  public String userMessage() {
    return reason.reason()
        + (httpStatus > 0 ? " (HTTP " + httpStatus + ")" : "")
        + ": "
        + serverMessage
        + "; "
        + reason.hint();
  }
}
