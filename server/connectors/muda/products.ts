// Muda's payout products, as GET /v1/payment/products lists them. The
// connection names its product (credential productId); the limits here let
// validate() tell the maker the rule before anything is sent.

export interface MudaProduct {
  productId: string;
  label: string;
  transType: "PUSH";
  currency: string;
  /** Limits and fee in major units of the currency, as decimal strings. */
  minAmount: string;
  maxAmount: string;
  flatFee: string;
  /** Recipient MSISDN: country calling code and total digits. */
  dialCode: string;
  msisdnLength: number;
  /** ISO 3166-1 alpha-2 of the recipients' numbers. */
  country: string;
}

export const MUDA_PRODUCTS: readonly MudaProduct[] = [
  {
    productId: "10011",
    label: "Mobile money push (Uganda)",
    transType: "PUSH",
    currency: "UGX",
    minAmount: "500",
    maxAmount: "2000000",
    flatFee: "2000",
    dialCode: "256",
    msisdnLength: 12,
    country: "UG",
  },
];

export const DEFAULT_PRODUCT_ID = "10011";

export function mudaProduct(productId: string): MudaProduct | undefined {
  return MUDA_PRODUCTS.find((p) => p.productId === productId);
}
