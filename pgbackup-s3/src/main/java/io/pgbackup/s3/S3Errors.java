package io.pgbackup.s3;

import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.exception.SdkServiceException;
import software.amazon.awssdk.awscore.exception.AwsServiceException;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.file.NoSuchFileException;

/**
 * Turns the SDK's exceptions into one line for people: what (s3://bucket/key), then why, then
 * what to do. The SDK's own message (request ids, retry counts, provider chains) stays in the
 * cause, for {@code -v}. No message ever holds a credential: the SDK never puts one in its
 * exceptions, and only codes and host names are copied from them.
 */
final class S3Errors {
    private final String endpoint;

    String endpoint() {
        return endpoint;
    }

    S3Errors(String endpoint) {
        this.endpoint = endpoint;
    }

    static int status(SdkException e) {
        return e instanceof SdkServiceException s ? s.statusCode() : 0;
    }

    static String errorCode(SdkException e) {
        if (e instanceof AwsServiceException a && a.awsErrorDetails() != null && a.awsErrorDetails().errorCode() != null) {
            return a.awsErrorDetails().errorCode();
        }
        return "";
    }

    /** {@code what} is an s3:// URL of the bucket, key or prefix concerned. */
    IOException toIOException(SdkException e, String what) {
        if (e instanceof SdkServiceException) {
            int status = status(e);
            String code = errorCode(e);
            if (code.equals("NoSuchKey") || (status == 404 && !code.equals("NoSuchBucket") && !code.equals("NoSuchUpload"))) {
                NoSuchFileException missing = new NoSuchFileException(what);
                missing.initCause(e);
                return missing;
            }
            String line;
            if (status == 403 || code.equals("AccessDenied") || code.equals("InvalidAccessKeyId")
                    || code.equals("SignatureDoesNotMatch")) {
                line = "access denied to " + what + ": check the credentials and the bucket policy";
            } else if (code.equals("NoSuchBucket")) {
                line = "no such bucket for " + what + " at " + endpoint + ": create it, or check the bucket name and region";
            } else if (status == 501) {
                line = endpoint + " does not implement the request on " + what + " (HTTP 501" + (code.isEmpty() ? "" : " " + code) + ")";
            } else if (status >= 500) {
                line = "the S3 server failed on " + what + " (HTTP " + status + (code.isEmpty() ? "" : " " + code)
                        + "): try again later";
            } else {
                line = "S3 refused the request on " + what + " (HTTP " + status + (code.isEmpty() ? "" : " " + code) + ")";
            }
            return new IOException(line, e);
        }
        Throwable cause = rootOfNetworkFailure(e);
        if (cause instanceof InterruptedIOException && !(cause instanceof SocketTimeoutException)) {
            return new InterruptedIOException("interrupted while accessing " + what);
        }
        if (cause instanceof ConnectException || cause instanceof NoRouteToHostException) {
            return new IOException("cannot reach " + endpoint + " for " + what + " (connection refused): is the S3 endpoint up?", e);
        }
        if (cause instanceof UnknownHostException) {
            return new IOException("cannot reach " + endpoint + " for " + what + " (unknown host): check the endpoint and region", e);
        }
        if (cause instanceof SocketTimeoutException) {
            return new IOException("cannot reach " + endpoint + " for " + what + " (timed out)", e);
        }
        if (cause instanceof IOException) {
            return new IOException("lost the connection to " + endpoint + " on " + what + " ("
                    + cause.getClass().getSimpleName() + ")", e);
        }
        String message = e.getMessage() == null ? "" : e.getMessage();
        if (e instanceof SdkClientException && message.contains("Unable to load credentials")) {
            return new IOException("no AWS credentials for " + what + ": set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY,"
                    + " AWS_PROFILE, or run with an instance role", e);
        }
        return new IOException("S3 request on " + what + " failed: " + firstLine(message), e);
    }

    private static Throwable rootOfNetworkFailure(Throwable e) {
        Throwable found = null;
        for (Throwable t = e; t != null && t.getCause() != t; t = t.getCause()) {
            if (t instanceof IOException) {
                found = t;
            }
        }
        return found;
    }

    private static String firstLine(String message) {
        int newline = message.indexOf('\n');
        String line = newline < 0 ? message : message.substring(0, newline);
        return line.length() > 200 ? line.substring(0, 200) + "..." : line;
    }
}
