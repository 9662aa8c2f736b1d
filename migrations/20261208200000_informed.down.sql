DROP TRIGGER IF EXISTS studies_informed ON studies;
DROP FUNCTION IF EXISTS informed_study_changed();
DROP TABLE IF EXISTS notices_sent;
DROP TABLE IF EXISTS signin_devices;
DROP TABLE IF EXISTS access_devices;
DROP TABLE IF EXISTS department_notice_settings;
DROP TABLE IF EXISTS notice_prefs;
DROP TABLE IF EXISTS bucket_notices;
DROP TABLE IF EXISTS jobs;
