-- Payments: ids from a sequence (every posting path shares it), and the entry kinds of payments.
create sequence payment_id_seq;
create index payment_customer_date on payment (customer_id, business_date);
