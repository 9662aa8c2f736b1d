DROP TABLE viewer_link_budget;
