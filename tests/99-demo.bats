#!/usr/bin/env bats
# The README's main command runs, end to end, and leaves balanced books.

load helper

@test "the demo runs the loop on a throwaway ledger and the books balance" {
	# On PostgreSQL the demo's throwaway ledger is a database of its own.
	if db_is_pg; then
		WPAY_DEMO_DB=$(new_ledger demo)
		export WPAY_DEMO_DB
	fi
	run --separate-stderr sh tests/demo.sh "$WPAY_TEST_BIN"
	assert_success
	assert_equal "$(grep '"type":"check"' <<<"$output" | jq -r .ok)" true
	# The merchant applied: no codes until it was approved; a card number
	# mistyped; a buyer's code charged twice.
	assert_equal "$(grep '"type":"error"' <<<"$output" | jq -r .code)" "merchant_not_approved
bad_card
code_used"
	assert_equal "$(grep '"type":"merchant"' <<<"$output" | jq -r .state | uniq)" "applied
approved"
	assert_equal "$(grep '"kind":"topup"' <<<"$output" | jq -r .id | uniq | wc -l)" 1
	assert_equal "$(grep '"type":"balance"' <<<"$output" | jq -r .balance | head -1)" 50000
	# Four payments, the replay answering the first; the vending machine's
	# from the buyer's code, for its terminal, without a PIN.
	assert_equal "$(grep '"type":"payment"' <<<"$output" | jq -r .id | sort -u | wc -l)" 4
	assert_equal "$(grep '"terminal":"VM-0001"' <<<"$output" | grep '"type":"payment"' | jq -c '[.amount, .buyer]')" \
		'[350,"u:1001"]'
	assert_equal "$(grep '"type":"buyer_code"' <<<"$output" | jq -r .buyer)" u:1001
	assert_equal "$(grep '"type":"payment"' <<<"$output" | jq -c '[.amount, .fee]' | head -2 | uniq)" '[2500,15]'
	[[ "$output" != *6222020200112345679* && "$output" != *6226780012345676* ]]
	assert_equal "$(grep '"type":"scan"' <<<"$output" | jq -c '[.checks.signature, .checks.crc, .merchant.amount]')" '["valid","ok",2500]'
	[[ "$output" == *"signature: valid"* ]]
	# Two mugs from the product card with the CITIC credit card: 10% off, paid by CITIC; the cafe gets 60.00.
	assert_equal "$(grep '"type":"product_card"' <<<"$output" | jq -c '[.title, .price]')" '["Lu mug 杯",3000]'
	assert_equal "$(grep '"promotion"' <<<"$output" | jq -c '[.amount, .paid, .promotion.discount, .card.issuer, .card.type, .following]')" \
		'[6000,5400,600,"China CITIC Bank","credit","m:cafe01"]'
	assert_equal "$(grep '"type":"product"' <<<"$output" | jq -c '[.stock, .sold]' | tail -1)" '[18,2]'
	assert_equal "$(grep '"type":"follower"' <<<"$output" | jq -r .buyer)" u:1001
	assert_equal "$(grep '"type":"message"' <<<"$output" | jq -c '[.to, .recipients]')" '["followers",1]'
	# Refunds: part of a cup before settlement; one mug after it, from the deposit, CITIC's 10% back to CITIC.
	assert_equal "$(grep '"type":"refund"' <<<"$output" | jq -c '[.amount, .fee_returned, .from, .discount_returned]')" \
		'[500,3,"pending",null]
[3000,18,"deposit",300]'
	# Day one's settlement (a dry run, the run, its rerun) and day two's: T+0.
	assert_equal "$(grep '"type":"settlement"' <<<"$output" | jq -c '[.mode, .net, .payout, .discounts, .dry_run]' | sort -u)" \
		'["T0",8300,8300,600,null]
["T0",8300,8300,600,true]
["T0",8747,5765,0,null]'
	assert_equal "$(grep '"type":"settlement"' <<<"$output" | grep -v dry_run | jq -r .id | uniq | wc -l)" 2
	[[ "$output" == *"m:cafe01,6222000011112222,83.00,CNY,stl_"* ]]
	# The micro-wallet: a transfer on the friend's statement with its note, and
	# the withdrawal in the first payout file, to the debit card.
	assert_equal "$(grep '"type":"movement"' <<<"$output" | jq -c '[.kind, .amount, .note]')" '["wallet_transfer",2000,"your mug"]'
	wd=$(grep '"type":"withdrawal"' <<<"$output" | jq -c '[.state, .amount, .card_masked]' | uniq)
	assert_equal "$wd" '["pending",5000,"622202*********5679"]
["sent",5000,"622202*********5679"]'
	[[ "$output" == *$'\n'wal_*,card_*,50.00,CNY,wd_* ]]
	# Day two's settlement made the deposit whole first (29.82 short after the mug's refund): still T+0.
	assert_equal "$(grep '"type":"balance","merchant"' <<<"$output" | jq -c '[.deposit, .deposit_shortfall]' | tail -2)" \
		'[1997018,2982]
[2000000,0]'
	assert_equal "$(grep '"deposit_topup":2982' <<<"$output" | jq -r .mode)" T0
	assert_equal "$(grep '"type":"merchant"' <<<"$output" | jq -r .settlement | tail -1)" T0
	# Every notification delivered: the merchant's (approval, payments, refunds, settlements,
	# the deposit) to its endpoint, the message to the platform's.
	assert_equal "$(grep '"type":"delivery"' <<<"$output" | jq -r .result | sort | uniq -c | tr -s ' ')" " 12 delivered"
	assert_equal "$(grep '"type":"delivery"' <<<"$output" | jq -r .event | grep -c '^evt_dm_')" 1
	assert_equal "$(grep '"type":"verification"' <<<"$output" | jq -r .valid)" true
	ledger_absent
}
