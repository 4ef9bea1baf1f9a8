// RelanceSMS: text rules for SMS (GSM 03.38, segments, sanitising) and the SMS
// transports (gateway providers over libcurl, outbox).
