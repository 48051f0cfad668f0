// node/qnet/examples/deploy.mjs: run from the clone while the network is up (npm i --no-save ethers web3@1 web3js-quorum)
import fs from "node:fs";
import { ethers } from "ethers";
import Web3 from "web3";
import Web3Quorum from "web3js-quorum";

const net = JSON.parse(fs.readFileSync("network/network.json", "utf8"));
const node = (name) => net.nodes.find((n) => n.name === name);
const key = (n) => fs.readFileSync(`network/${n.accountKeyFile}`, "utf8").trim();
const { abi, bytecode } = JSON.parse(fs.readFileSync("contracts/artifacts/SimpleStorage.json", "utf8"));
const [rpcnode, m1, m2, m3] = ["rpcnode", "member1", "member2", "member3"].map(node);

// public: ethers v6 through the RPC node (http://127.0.0.1:8545), signed with its account's key
const wallet = new ethers.Wallet(key(rpcnode), new ethers.JsonRpcProvider(rpcnode.rpc));
const storage = await new ethers.ContractFactory(abi, bytecode, wallet).deploy(47);
await storage.waitForDeployment();
console.log("public contract", await storage.getAddress(), "holds", await storage.get());

// private: web3js-quorum, member1 -> member3 through member1's TM; member2 sees no contract
const web3 = Web3Quorum(new Web3(m1.rpc), { privateUrl: m1.tm.thirdParty }, true);
const data = new web3.eth.Contract(abi).deploy({ data: bytecode, arguments: [42] }).encodeABI();
const { contractAddress } = await web3.priv.generateAndSendRawTransaction({
  data, privateFrom: m1.tm.publicKey, privateFor: [m3.tm.publicKey], isPrivate: true,
  from: web3.eth.accounts.privateKeyToAccount(key(m1)), gasLimit: 3_000_000, gasPrice: 0, value: 0,
  nonce: await web3.eth.getTransactionCount(m1.account),
});
const mine = await new web3.eth.Contract(abi, contractAddress).methods.get().call();
const theirs = await new Web3(m2.rpc).eth.getCode(contractAddress);
console.log("private contract", contractAddress, "member1 reads", mine, "member2 sees code", theirs);
