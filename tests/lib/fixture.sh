# Shared set-up for the scripts in tests/lib: u:1001 bound to a wallet with
# a test card, PIN 135790 and 1,000,000.00 CNY. Needs the programs on PATH.
rich_buyer() {
	wpay-bind user add 1001 --nickname Lu >/dev/null
	wpay-bind wallet add lu@example.com >/dev/null
	wpay-bind user bind 1001 lu@example.com >/dev/null
	wpay-bind card add u:1001 --pan-fd 3 3<<<4111111111111111 >/dev/null
	wpay-bind pin set u:1001 --pin-fd 3 3<<<135790 >/dev/null
	wpay-bind wallet topup u:1001 --amount 100000000.00 --request-no t1 >/dev/null
}
