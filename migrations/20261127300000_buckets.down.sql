DROP TABLE IF EXISTS user_print_prefs;
DROP TABLE IF EXISTS bucket_studies;
DROP TABLE IF EXISTS buckets;
