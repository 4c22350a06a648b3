-- The database defends itself: what the application must never do, the database refuses, even to
-- a script or a console that bypasses the application. (On PostgreSQL the runtime role also lacks
-- the privileges to truncate, alter tables or disable these triggers: see src/db/runtime-role.ts.)

-- TRUNCATE ------------------------------------------------------------------------------------------
-- Row triggers never see a TRUNCATE: every table that refuses UPDATE and DELETE, and the two
-- whose rows are never deleted, refuse it too.
create trigger allocation_no_truncate before truncate on allocation for each statement execute function refuse_change();
create trigger audit_log_no_truncate before truncate on audit_log for each statement execute function refuse_change();
create trigger bill_no_truncate before truncate on bill for each statement execute function refuse_change();
create trigger bill_credit_no_truncate before truncate on bill_credit for each statement execute function refuse_change();
create trigger bill_line_no_truncate before truncate on bill_line for each statement execute function refuse_change();
create trigger bill_release_no_truncate before truncate on bill_release for each statement execute function refuse_change();
create trigger capacity_change_no_truncate before truncate on capacity_change for each statement execute function refuse_change();
create trigger cash_deposit_no_truncate before truncate on cash_deposit for each statement execute function refuse_change();
create trigger cash_deposit_item_no_truncate before truncate on cash_deposit_item for each statement execute function refuse_change();
create trigger channel_day_accepted_no_truncate before truncate on channel_day_accepted for each statement execute function refuse_change();
create trigger channel_reconciliation_no_truncate before truncate on channel_reconciliation for each statement execute function refuse_change();
create trigger counter_shift_close_no_truncate before truncate on counter_shift_close for each statement execute function refuse_change();
create trigger customer_deposit_receipt_no_truncate before truncate on customer_deposit_receipt for each statement execute function refuse_change();
create trigger journal_entry_no_truncate before truncate on journal_entry for each statement execute function refuse_change();
create trigger ledger_request_no_truncate before truncate on ledger_request for each statement execute function refuse_change();
create trigger ledger_request_step_no_truncate before truncate on ledger_request_step for each statement execute function refuse_change();
create trigger payment_no_truncate before truncate on payment for each statement execute function refuse_change();
create trigger payment_reversal_no_truncate before truncate on payment_reversal for each statement execute function refuse_change();
create trigger policy_hold_no_truncate before truncate on policy_hold for each statement execute function refuse_change();
create trigger policy_hold_approval_no_truncate before truncate on policy_hold_approval for each statement execute function refuse_change();
create trigger posting_no_truncate before truncate on posting for each statement execute function refuse_change();
create trigger read_exception_resolution_no_truncate before truncate on read_exception_resolution for each statement execute function refuse_change();
create trigger rebill_approval_no_truncate before truncate on rebill_approval for each statement execute function refuse_change();
create trigger rebill_request_no_truncate before truncate on rebill_request for each statement execute function refuse_change();
create trigger reconciliation_case_no_truncate before truncate on reconciliation_case for each statement execute function refuse_change();
create trigger withholding_batch_no_truncate before truncate on withholding_batch for each statement execute function refuse_change();
create trigger withholding_line_no_truncate before truncate on withholding_line for each statement execute function refuse_change();
create trigger withholding_line_bill_no_truncate before truncate on withholding_line_bill for each statement execute function refuse_change();
create trigger withholding_result_no_truncate before truncate on withholding_result for each statement execute function refuse_change();
create trigger withholding_result_file_no_truncate before truncate on withholding_result_file for each statement execute function refuse_change();
create trigger customer_no_truncate before truncate on customer for each statement execute function refuse_delete();
create trigger tariff_version_no_truncate before truncate on tariff_version for each statement execute function refuse_delete();

-- METER READS -----------------------------------------------------------------------------------------
-- A read is superseded by a correction (a new read naming it), never edited or removed.
create trigger meter_read_append_only before update or delete on meter_read for each statement execute function refuse_change();
create trigger meter_read_no_truncate before truncate on meter_read for each statement execute function refuse_change();

-- BALANCED ENTRIES ------------------------------------------------------------------------------------
-- Every journal entry's postings sum to zero, checked at commit, once per entry: the entry row's
-- deferred constraint trigger sums its postings by the primary key (the postings are written after
-- the entry, in the same transaction). Per entry rather than per posting, so that a bill release
-- or a bank file that COPYs thousands of postings pays one index probe per entry. An entry without
-- postings moves no money and is balanced (a rebill's transfer of settlements between revisions
-- with nothing left over: its allocations name the entry).
create function check_entry_balances() returns trigger language plpgsql as $$
declare
  total bigint;
  lines integer;
begin
  select coalesce(sum(amount_fen), 0), count(*) into total, lines
    from posting where customer_id = new.customer_id and journal_entry_id = new.journal_entry_id;
  if total <> 0 then
    raise exception 'journal entry % (customer %) does not balance: % posting(s) summing to % fen',
      new.journal_entry_id, new.customer_id, lines, total
      using errcode = '23514';
  end if;
  return null;
end;
$$;

create constraint trigger journal_entry_balances after insert on journal_entry
  deferrable initially deferred for each row execute function check_entry_balances();

-- The check runs when an entry is written. Postings added to an entry of an earlier transaction
-- are not checked here (a statement trigger on posting that refused them cost about 40% more on
-- the COPY of postings, measured); `gridcollect ledger verify` (entry_balances) finds them.
