DROP TABLE share_address_sends;
