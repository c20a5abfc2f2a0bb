/* registry.c: the models nst knows how to install, where they come from,
 * and where installed models are looked for. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "io/io.h"
#include "nst.h"

typedef struct {
    const char *file, *sha256; /* sha256: full hex, or a prefix where the origin publishes only that */
} model_file;

typedef struct {
    nst_model_info info;
    const char *origin; /* base URL; file names are appended */
    int n_files;
    const model_file *files;
    const char *subdir; /* directory in a mirror; NULL: the name */
} model_entry;

/* darknet-tiny as converted by ml5.js (MIT), TensorFlow.js layers format. */
static const model_file darknet_tiny_files[] = {
    {"model.json", "5a5ee1ddb33ac7948b303197f4c63f72a80fc00a7d2870d30843004ddd5b4b51"},
    {"group1-shard1of1", "1a95595a3f6c497f27747d40276649a10988d0808a121ddfb3f6b368133f44c5"},
    {"group2-shard1of1", "8226135041fbafc7c3a838d0673badb8d3e4211a4d550781951d15a09445ea47"},
    {"group3-shard1of1", "3a465f4bbcbcd7721caa77b704829cfe20eadab670a8d91a352e76e4cfca1a02"},
    {"group4-shard1of1", "3e661974c4740795f3ca9b882ae80dc3521951dac2b262ac054329f17aaefb10"},
    {"group5-shard1of1", "5f1fa7779fe01d2b06ea3804f84e5cf6a25688dc458617a9f35a1018356abcbf"},
    {"group6-shard1of1", "e054b14e9e866da448ab351f04d3920ae216032b3df680396163a77b8925a009"},
    {"group7-shard1of1", "2aed907302664d64b85669a293c8f5a492521b4d025b9b3a19943f951a7e32df"},
    {"group8-shard1of1", "99e0418ac61cd6093df0bb4a5a67750ec0b0fbb8edb2125c0cfda67e3cb3f1a4"},
    {"group9-shard1of1", "4fb47f3aa4f19f7fabd7d4271cf81e8af7735fcfc89bf4b9174f379bb60b129d"},
    {"group10-shard1of1", "2afc82f4d423cb8272e4089b69c5dba2755eea8499935b4f0020e27b5d559557"},
    {"group11-shard1of1", "8957dc1caa88193522d8071f6ac3171634818bb50223b1e98ace21f010b414cc"},
    {"group12-shard1of1", "bced27a16699c0eca4ee4d15c4e5fac46532a6f2850b53445818c0e2e69af7b1"},
    {"group13-shard1of1", "5e6172c6d71505fce1a9388e733aaddf21f6ab14f9ccaf10d2986a94b8f19b42"},
    {"group14-shard1of1", "adfb4ad19dea5c1ba0c9b7e7d90f6265aac136a7d98e0f0eed4362d62e5e51f8"},
    {"group15-shard1of1", "79131184270263a2c585240efbfdd3ed13fc005c67b761ced984c70265209511"},
    {"group16-shard1of1", "d70b0b9f3db3d51bd5613246885f4723998aef2e56845c7dec75743221f1ef5e"},
    {"group17-shard1of1", "3dad37a465ab881c2d2006072cd60d83144d04a5c5448f49e15308472bbb145a"},
    {"group18-shard1of1", "c7a7f19a7a9e3a780bd1aedfe30a7e594821ea8d57d6e72d148c033b0f24f5fa"},
    {"group19-shard1of1", "4f16fe423091d9b32d59bff14cd19f1a6a233bc98adade4a1e0ef0d2972752b5"},
    {"group20-shard1of1", "1efd0b489da0d04808a02175c2803528313f7e9abadb18a5dc3ae0b5bd5c0331"},
    {"group21-shard1of1", "9d024d14a803a3b078df0e9829bcc13a8901c3a6043456632ce5697be5734155"},
    {"group22-shard1of1", "0c18a3238859e649bac990e90dc4738861ffd07e9bee725139bec9ef3b8545ef"},
    {"group23-shard1of1", "2116862cb9cd43b21a3bfa3ea41e43dbe33284a97a8a22c5afe8d768f5a767af"},
    {"group24-shard1of1", "35c4204cee6796300f50addf2a2202a137eaa8a42999a79168f9226f60c8a62b"},
    {"group25-shard1of1", "9a37816bda07b3be24b88103a11dcc5d3eea15749a15594492b03ba3177a6a5e"},
    {"group26-shard1of1", "697677a6c94bd84fb0b558421629b5424101c4ea16601be53096275f43891f6c"},
    {"group27-shard1of1", "ef48b33bcf06fed0a9cc8b41017bccbf4f32fceeae946c00e0fd130fc467f9e4"},
    {"group28-shard1of1", "2831d9d4368b4cad678f9a3df4c9575bc35e1c2a7ef6ebed887c02c06a4f6dab"},
    {"group29-shard1of1", "720e58d7e54901e8db21d698fc094ffcb65a5991397895fef827ce53094b2a15"},
    {"group30-shard1of1", "a68c7913477828b28c2fe1924b191139877f7825e5f1a2e1c1b0e0e92accc669"},
    {"group31-shard1of1", "7985bd42bc5c0333e563998ad6d4616b0afaf1765f2b8c4c6df3944cf8f13992"},
};

/* torchvision's VGG weights; torchvision publishes the first 8 hex digits of
 * each file's sha256 in its name and checks only those. */
static const model_file vgg19_files[] = {{"vgg19-dcbb9e9d.pth", "dcbb9e9d"}};
static const model_file vgg16_files[] = {{"vgg16-397923af.pth", "397923af"}};

/* The style networks of fast-style-transfer (Johnson et al. 2016) as
 * converted by ml5.js (MIT), deeplearn.js checkpoints; sha256 of each file
 * as published in ml5js/ml5-data-and-models. */
static const model_file fast_la_muse_files[] = {
    {"manifest.json", "e03432142aa5e7f85776094d69bf5b90b11ba4498026d5ba2c73fefefbe35bf9"},
    {"Variable", "5fb0a170666f9305d6b2640156b025af45a1c118cefb5da3708c1820a2613c7b"},
    {"Variable_1", "3f03142d6a62195024802d767d642f8b42c1d6601a56e60c6621b0f5fc983775"},
    {"Variable_2", "4d14115f409eb1ad18219e4b593543055be3f76b6f03219818e5b7d8179d7d84"},
    {"Variable_3", "42ed004c8dd8443047b727bca7b3016b7e2db26526f6fc6a8da4d1436f8d7f29"},
    {"Variable_4", "3d1c5d9846cda679a20f13c4267e34ab36dff9226bba3f440b0a4cc43b11f8af"},
    {"Variable_5", "bf463701ae23269f3efc004630336713aa77f057a43ef6cf6de2692ffef76c09"},
    {"Variable_6", "86143e4545d996771719b59d41f3e0845a08a71b7944df8af066536752c1da19"},
    {"Variable_7", "832f903a76a3272e64580e5f8d62a24b1419eb8c59f3a2080bea5a01070d06d6"},
    {"Variable_8", "ae664b3c8ba72734d289fa1f71603d107d3a5b1bcdcfa59bf6980270410c66bc"},
    {"Variable_9", "f8b8ab2d6b228efeb8380fbfe162b562fe07aa2b3256ffffc414a2a09d71e1b6"},
    {"Variable_10", "17ae8bd2bcce93adb6bea1a61e028eafd1a54e394bff15cf8deea23456ec579f"},
    {"Variable_11", "6177a1345fecae04628d5285c4b4e71d722773bf0df955f52a7d0fd98538614e"},
    {"Variable_12", "3e8aff2e9bba60daf40a5685cb20dd00b5aac645075578fc7e4cea2477c29c3c"},
    {"Variable_13", "05b4312eb3cf8da54b589851eece53802db058ed05ed206b3a31d14ec631bcf7"},
    {"Variable_14", "8baf5e3d21c3621c1c92860a4fe52e8ec771271f6be958b5762e544b8960ab8c"},
    {"Variable_15", "710178ca85568f2450f3a800b5370b5900e7ce9623d7af07d7fd74fcad059320"},
    {"Variable_16", "a385dd60ae58d2d5f88aee108330d92de701f6bd31b1f8609b08ab4c03007242"},
    {"Variable_17", "37ee8893e34e782e7c132455d3bd186e5178b0f7440aca99f7a722f6ba193986"},
    {"Variable_18", "0ab99c129962805d57c98f067dc8e59d75448d7376898d3e22ebd87b6116e70b"},
    {"Variable_19", "fb18b6471fa5ba8517bc7114427ee85203d7c227381c86de891255d1a939890a"},
    {"Variable_20", "ebaafb81d140669cef33de400c61fbf9fa80bb59eb38adc5d4bb0b83bfd26d58"},
    {"Variable_21", "47fcd21e522a82f45ce18fd6ff17b7b5b82241446f18ae8bb510d9e675809cf8"},
    {"Variable_22", "de4dddf8e0b41bb0747e5671258e01b478a8db1926167224207c08ddd59fb3e5"},
    {"Variable_23", "99f13d2b6407ce6bfed8527742491c2b5a40ebe3560f7559ae4a7808e1015e6e"},
    {"Variable_24", "ec84cad7d283d139914b6331a24f7c469192d6617942af0c5200f17ad60ef117"},
    {"Variable_25", "7e80425632b57dd9d77eaa2f880775ca0dec687291afb4f98c4681308aa09d44"},
    {"Variable_26", "d0089434eb367c47c1fc6f25084ed7d8c981a7bfcfd1a9cb7e65d5363eb541d6"},
    {"Variable_27", "70062c7d6913facbf1545c751cb693f7594d10dbb8baf0ffe1c48860ab9d897c"},
    {"Variable_28", "579862bc8463110f47a4aa03834eb7801d26fc9ec503e11380e224ef1d72d571"},
    {"Variable_29", "e1f8e506eaac01ce126ab622856ad70bf83d3cd05be56c302cbf3003a6669905"},
    {"Variable_30", "c4d16ae9b67a1ad0d0c684b6cecbaed16c8d7a0626265bcee8838bec258f8d0e"},
    {"Variable_31", "8dee88d31fa9b01c1e5d49f8a9c4f239226323de883a0063984da4abef54d1aa"},
    {"Variable_32", "009c9171c3f04638e08a3436672e0585535ffe19d2d187b4216fb45fd3dee4ce"},
    {"Variable_33", "10571e278f94d0312829b61464c8302cf1dba662aeb39745a0b88de7d22abf6b"},
    {"Variable_34", "2cf07585da604ae2807fd890b762d5ce57eee2e6291de51d2523772f47900103"},
    {"Variable_35", "8b4bb0f57b2eb9752fef69601b901c79dcf5a75979a65c0e203e01ecac6930d5"},
    {"Variable_36", "fe8ccabf0a3843b1b05518c04773ac06699e62ddd975cc7f92696b25a52d778e"},
    {"Variable_37", "622fe68c2720d2c20ff527e41a649cac5088fd4b83c534ac4d5dea6755833358"},
    {"Variable_38", "832ea880de1841a0c2b1f8eb8a59c7d51197f4d9ac270a6d02e253eb66f59981"},
    {"Variable_39", "57d48337fcde84d737932578bb0cb0efda3754fc9ead6bd43185007a800e0210"},
    {"Variable_40", "6fb3f02879c3e3c0df64ae8e6a40c1c9f0e5ea7186a72b35588156c28808adb7"},
    {"Variable_41", "b99c664041c2022ed34d25b0a07c082a6e141dd7a8ab87a7853004d736f9b4f1"},
    {"Variable_42", "2d8c702340628c345bf2b099900759976ecced7a912e0c13236143d30d311b63"},
    {"Variable_43", "5236d3a31ccfb570a0a8f512a11d3b74b926fa4e1471e15b7a76ffa12207cdea"},
    {"Variable_44", "eefee49241d00ff09e2c3e76827aee33313bda64350a81e3fe5641a7d507b7aa"},
    {"Variable_45", "70bc49b15401844e910a683fa1d46cfaabaff0b1d907046730158d001ba5e6f3"},
    {"Variable_46", "2d4013b46ef962e19968e6b8eb653af1a4a0821548f4b7321e00202ca2c2905b"},
    {"Variable_47", "4113c0dfa8b97af10c4135c0c6cf404e53256d70b7934008f6f9190a5259a9c6"},
};
static const model_file fast_mathura_files[] = {
    {"manifest.json", "e03432142aa5e7f85776094d69bf5b90b11ba4498026d5ba2c73fefefbe35bf9"},
    {"Variable", "d223ec89b14178f257fae1aa154e2300f2dce7abe6e09945b7a8dd6f40a6aa60"},
    {"Variable_1", "2413c0bf04a7ec084013936c47e8994e9de14465b2b23f43d2ed2ec545eb05b2"},
    {"Variable_2", "6782465c44ec94b04116d1a82adb3fd47746e4982efbddcdbf05b0323abc7fca"},
    {"Variable_3", "77a201393b6fea140327f80289c5bac41d7002ee44d6f332ba3db515a51cd5bd"},
    {"Variable_4", "2d867ab9a89e2c4f120f920a841319cd37fbb49b7fa48f731d4bd12721e7d396"},
    {"Variable_5", "bf2d27d7f54b19e86c91bbdf22a9144d69aef2abd9d080d72cf34162843a19ed"},
    {"Variable_6", "708fc478c157eaf742726b33a038ef5bda935da3e563a609036a35d537a55266"},
    {"Variable_7", "6e5525ed8ec4114ca51b51c9be50c0515d11c3fce7c98b2ffbc5e6999eecdf31"},
    {"Variable_8", "5825379c4d51451b7d3dc8eff627dd68620c12ac0ef28b32d8272b2f0076f82d"},
    {"Variable_9", "4b1f03f52fd5b8e09f046a93fd634859bf415c724e1a50687d8c254af3280ecd"},
    {"Variable_10", "c9237296a86536468d72001f5805833b807d342800307368dac3fcdc517ff738"},
    {"Variable_11", "d32d703e6144902a67fe5a015c83b19ecab5f0e654c50eba277a3032d7a83c6e"},
    {"Variable_12", "cac04cb0702e2af9205d315d78701641b653573ee99587ad53f25d331a86dd0f"},
    {"Variable_13", "277a52ab6fbadfbf0794f58d11e6c9b257d12c272f8c12ef6de83847bd745907"},
    {"Variable_14", "f89dbfd6ac3fdb71ff5baf125dce5acc6ba575e048b76409c2c751647e2444c6"},
    {"Variable_15", "64e59e88d3badeac96aca0b39d4e8aed20633a5bb4a34b4cefb293ae7c22a6b0"},
    {"Variable_16", "a0d67da06696b162af5b5b5e7d3febb1c40ee513e972affc5263b9aebc961f0e"},
    {"Variable_17", "0066187212d63cf676ce2c8820f9824ae828339f063b8ab1d707f504bc0c7afb"},
    {"Variable_18", "47a041a8f7e3411dd83d841b4e7be023fbcc7ab7a33095d64ee0dcff069e32cb"},
    {"Variable_19", "2c4cd813d6b390973910be272e7a6f02042cf3c699022c2485b9c707a821ca07"},
    {"Variable_20", "71c2fa4bb459f1011f93ef76c18793b7737f83d065ebd7bb2ad0c9d287974353"},
    {"Variable_21", "adbfc2b5936e904b654e1e0e0cedf50885c17d433dd07b8d1cda115a71e02a85"},
    {"Variable_22", "e0a2c98a166abd48d4cb3186061097e86a3275699cfe4d62b9853e8e1c84760a"},
    {"Variable_23", "bf86cef5cbb59436e7f7494fe970900c3b6cd239fa901ac5c6a0ca201636212d"},
    {"Variable_24", "da3c65eea91235db68e0f5dced3dd006f59918b8a51461f543f4b880038b4c7e"},
    {"Variable_25", "5aa6fbe0fbefe31edbec1aa6e928ff67bcef9e2328127c18ded96a1f200a86d7"},
    {"Variable_26", "cd1d190df0afae20181f3bdcd7ff413d8d82bc3c5b796d8cebfe9ab4586648e9"},
    {"Variable_27", "3f994814f9a1e6a1c9f0424849e572a7a7a9c9c033ffe9f321dd7761f6b87b76"},
    {"Variable_28", "4665d4530d27ae708152fdfa15710f43a8ddb5ce2df3d2700ff38e71d17409cf"},
    {"Variable_29", "a9754620d5b107da87529a818b8b86b714600f70cbbe96cc88797b473f666c0c"},
    {"Variable_30", "5d04b4dd68374d000cd3193372b7a135d8a6fd7dc275db71b06103a5dffa7cb3"},
    {"Variable_31", "606b3881530d10a4eea5014369dd6fddd7a91c88af8bea913a30a0c73126f6d0"},
    {"Variable_32", "fac40b576ac63c8460ec1d117a603c09996c9f1abfdbcbcfd9ab25c40edeee5b"},
    {"Variable_33", "3803e8c0b713d4501a802862220ccca68156c2da332651a548eca0b634840e60"},
    {"Variable_34", "627407a77a1673c032d51aff43be7046b4e158c2cc7c89e4d9bcccca4e1d06e3"},
    {"Variable_35", "798f29f3090606cdedba16b1f8c4cd144d50c175d6900fabcc77a7b8863fd9ed"},
    {"Variable_36", "88076d9d96dbf2415367426e7c565200d1aad4dbe24ec42a8d1226e47f7721de"},
    {"Variable_37", "a5dca01fa046167a8ff321cc52c93ba26f6ec4b1e85b9916086ec2b86d394346"},
    {"Variable_38", "93d96c661ba73dd3720cb630962d621ea92390e820c25c1aaadd027c5bfc1703"},
    {"Variable_39", "b0d2051d545ecde1150b9e00b5433a1054125cded0ccb8ffa0f698c03c3bc1b4"},
    {"Variable_40", "73b755ab0f6c67406a442c252fff578e704dd7e13952bad02d567d8fa3711224"},
    {"Variable_41", "a696f25dcbc595093246c967bcb558496da859caf7762fc066345d1b0e773652"},
    {"Variable_42", "a1ede8ea37da64b442cda2b3532a2303f049a1268d70452f09897611584d30f7"},
    {"Variable_43", "ecbc99c75ed250c2250e27f7c144b2229f4988e72d4e86bd7c58ec56de599000"},
    {"Variable_44", "bb2ec7db1bf4de2a5b0974b5cccbc7cc723fdb02c7d3fe6fe58da7f6359c3ace"},
    {"Variable_45", "4c029244b4a0fb8e874af3877f7e1140dc483209cfbcf8e5dfc27fd250301df8"},
    {"Variable_46", "0eb3dcf937fd14fb4effc6003ad60e2909e8f51a9a1c617a6b2c8f22006eff6a"},
    {"Variable_47", "14f40001bcfd85cbd9463d6a08083537d525ab80f73ced04cf7cc7bc4db23d46"},
};
static const model_file fast_matilde_perez_files[] = {
    {"manifest.json", "e03432142aa5e7f85776094d69bf5b90b11ba4498026d5ba2c73fefefbe35bf9"},
    {"Variable", "91546c7a19c2bde1e0eb25a00420fae1cc9ec1f6588d92ce4e48f0d92bd9c67e"},
    {"Variable_1", "942c74baac69e47ef2e06da85736fd1a991142a74b41c320bf6f833d5504153e"},
    {"Variable_2", "79885b18febd653311597361d7c68d07765b0629960f86d622102aea17a53f3c"},
    {"Variable_3", "a4ba51c1db514c87f9e0f64b92158d435da569c0474da6aba79df40fa86fd7c4"},
    {"Variable_4", "212d89cb30d34165f52f500191b9c3f0805c979804405cc5b4d5c2de4227370c"},
    {"Variable_5", "aaafec280e46d0581bf6d4c42424b38a9177052fbafb49d9fb0c8a50c2827530"},
    {"Variable_6", "51a8bfa55400d4fd6b7ee196f938088c49cb6559b7d9bcde768d29e1f9a9dbc8"},
    {"Variable_7", "84de90a675ebadc35a25487966f65562a5fdd269f498ee0e622fbba3806fea8c"},
    {"Variable_8", "0e9b7f8f2fec11b90eb7adfa5a38120bb4d082a4d63a40e2793d61a11a807b59"},
    {"Variable_9", "5ec3249ae0a74495a5740bc5addc7b0f7661ffd80b683ef25192ca372e3a597c"},
    {"Variable_10", "55da5e2b3fb1d96ef94924a07bf4b16059f5e57c204f84401802f317e839812a"},
    {"Variable_11", "c9f4c1bf102211533def6f1778ba05210c1691b57de91e44c057bfe73f457f99"},
    {"Variable_12", "7f11f5412e2e70f65a6ab27b0424030ed33e0f53193edf8878ddc2df9be08d97"},
    {"Variable_13", "bae1517b742b26542b8f8d54e1dc86255998d33177736fd76a594579940a4d82"},
    {"Variable_14", "4fec13c1a18aee75d27bc9c1ead9daadd2b287feda228d87feb2d734f27634f6"},
    {"Variable_15", "026226b2142f60a9f98af9b7b749cbdcfd70e6408cf725b2c2f805a493fadbd5"},
    {"Variable_16", "a37f574512c5dd7aca86ebac5c6ef184d407f6ab81d46a47c126d48242954331"},
    {"Variable_17", "14291e70b1f47f9c7ee2135085b3caea50754e26e7765a7c81cd893d5ff3024e"},
    {"Variable_18", "8b11b5eb059e6b8edb33ee6c830b5aa0b7b7a2aadf410e81f57ef81bf362904f"},
    {"Variable_19", "9ac07bbb0f68c3fe565c5be88322cef36e309c6ac45789e3037809633d188c25"},
    {"Variable_20", "f78736668205f09b8a606329b5bad5d49e7bb27afe4fcf13d97a8afea767dfd3"},
    {"Variable_21", "a6a721b544639fb756805b4540d78bd70249e9ad5ab672fb9386bdef714683d4"},
    {"Variable_22", "4ff52683c92bddda887735e548b20ad4c0a710f697029c1e19b302b1c443163a"},
    {"Variable_23", "2c051c4608b2ff73c0294a19d141cf64e9d6482003dd9ee9ab2d755e68e972b5"},
    {"Variable_24", "07678653bea93b6642c8133daa3762e02eec03910e72857152efc56afd304cba"},
    {"Variable_25", "4945ef7ac9317985cbaa1b5b04497cb7a726bf0ba62b114972e998df60e54d1b"},
    {"Variable_26", "94809ad1e4b3b99c71b9cb3f2e12b5b435439cdcc2d35be0c5a345f3ed6bd14e"},
    {"Variable_27", "f06fdd967bad19632b3a0a795e9677b660b5f57e1ab7abd65f586c723c0eba45"},
    {"Variable_28", "3dee77acac07d51b14039144984f6395c8a96d7d3a614e1ed89089c5a07c6405"},
    {"Variable_29", "55144da587803046cfe513debb28a92b9543b539b421bcde833834e73ef15c10"},
    {"Variable_30", "92c25d1ab622bd7088ae23dfd4efce764b4e1dac083349eb63c0828431c42dbb"},
    {"Variable_31", "e893cf8c481f47a5ca1df296f7e282375c57a000308e9bfefd81b6bd5771b26a"},
    {"Variable_32", "70214edecb78fa59813bba352f39b30d15f610f8682c59fb2210fd6e1aaaa01a"},
    {"Variable_33", "38335745a841db26f386b2f963f4a923f793eb84fc46fe6f63a9c48b0eb3e263"},
    {"Variable_34", "88b16ec4428ef207b6092fc102bf4b1aa8adeae8c4e053f7b9fac05a5ee5ca27"},
    {"Variable_35", "e61cd11f0222d3e6fa56d3882a1552cdbd12d9da0b22968c4b1a93bb2d8e6ab9"},
    {"Variable_36", "97b51a04f9784be38bd4d32588291c445bd13efaa8a7a35b14f3e961586e8130"},
    {"Variable_37", "700793fcab3b9f0966d2f5778008b384559fb22b2bf82f85a627a1175766ca96"},
    {"Variable_38", "08d4d1e8ae5c927ba1a451a8c3b55e05fc932e4455229f14a39e5df88808cd65"},
    {"Variable_39", "a7842d23740bc5a5daf6fbd4110b0f24c2b0ba032865dc82462f9e1230e14c67"},
    {"Variable_40", "539ebb20c923aec612b654dc0f9b4cb186e8ea740c40c0e667f8c001cac802ac"},
    {"Variable_41", "115194266cd3778a97b19ccd6aeaeeec55d4837e6303619368ad33fc9ec5d81d"},
    {"Variable_42", "d71ef79da662c2cdd23a45f6db2b7c32fee3c0b72210021784f2c874ac3097fc"},
    {"Variable_43", "b2409b0af090077e5960cc24e6dbc7dae69653a466eaea075ee141a048f2e558"},
    {"Variable_44", "d5985994d18abc707733661c4edf483a588c1c9e33c7bde84ad7af83dd142e24"},
    {"Variable_45", "27e33b5f13486c3d70b3798d4a5c29d47fed95690729d78936469eb5c72791bf"},
    {"Variable_46", "dcc2128394acb05f0b24af3db9cf6ef55fd5cc430d945d16e1c3b074ee1c1b3d"},
    {"Variable_47", "6a93341a270ef6bd4cd7f714464dde527f2ff19ccc1c9a281e9c01221dcf02a0"},
};
static const model_file fast_matta_files[] = {
    {"manifest.json", "e03432142aa5e7f85776094d69bf5b90b11ba4498026d5ba2c73fefefbe35bf9"},
    {"Variable", "123e94bac860af1629ae5f4cb9cc83e5510a72a0bf74fec0ceb27ad32679c17e"},
    {"Variable_1", "1cea4bd0871ff4bd8fa967069a76cc65ac4b6e81017742e3738a8037b602ef4b"},
    {"Variable_2", "b8f9d035498caded186a430df1c6f84742910cc42e8d51aeeafce46e77ce113c"},
    {"Variable_3", "c91eb3468262e724a893d9f351edbccdde3d0bd63094f84a621effbd7ad87d03"},
    {"Variable_4", "32b3a429da8a51a8097ac851e135f03019bacb7c3ae8282d7dadfefe2ccf7045"},
    {"Variable_5", "6c950a33d801510bd6b162bda7acbaae05969708e1ba24ad2e28cf1b40b85b76"},
    {"Variable_6", "15f547b046dc281b811ad3acc49dc69a58ce911737fda60b4b66058702a9a73a"},
    {"Variable_7", "3baf08b214b15486fdf2a63d3e8aebb0b65a429d1ec8dbe83fa1bb75e779edc4"},
    {"Variable_8", "ffbf5bf66293750ce80ba6a1a42feb15e6a09a6c6303b29ddf6ace0bc63145e9"},
    {"Variable_9", "559738795cc1862ad810e54138b8f90c55515085e30e1f672606fab55a76c96a"},
    {"Variable_10", "e911a2acbaac4aa681ca8e5a6ba6fd08c3b5d516aba5027f335cafd604e02897"},
    {"Variable_11", "72b01e721335c9e04e0cc922aab9c8b86b99f519b8209ee02b0e9ab18a5dbfa3"},
    {"Variable_12", "64d2289b10af2bda9331f11dca42e82a45570da4b64ba6a6a04158fce2152228"},
    {"Variable_13", "48a2534c70f30e1796cb037cb1a88ae718c85a92c77b158c34d052f133b60a61"},
    {"Variable_14", "2e68c10cfb1f379c883a93ac963b0bfb166fe03cdda37da9655a548534824f14"},
    {"Variable_15", "94aa985b80873786f277abf5ab556bddba35a2742598072e9dc664b115d40b13"},
    {"Variable_16", "6507ab43d4b8729bd845e4d07f34ba6f2f8f4c1687eccfca2f17eeb534ba889c"},
    {"Variable_17", "6b553c77e34ce7dfe4cdb3b7754518ffad5abb223858da2b7cf9ebb950b67ea7"},
    {"Variable_18", "7e849222725040aafc605db8a8fa23d8c728df9f917466fd236a9dd77ab2a996"},
    {"Variable_19", "8274df69aa743264c4ff5af27d7d3f5446f5e01fd9e502f09eb903647961a512"},
    {"Variable_20", "1578b4f0ab1cda4314e91ef5bdac9f2f100a20d48b8f315f1b362666ab2ce6e9"},
    {"Variable_21", "2d8d8cd30cf6a10503c8f654716cfbcadcd0ca8a3e6c4e80d975d25f27d80b4b"},
    {"Variable_22", "c0a3b92f7200f5e46be0f797b06ad3b7d15cfb266ccf65687bf2f69a6becb974"},
    {"Variable_23", "7e55ab1f79f34352f435b4bd634dfd4bdff611e0531a4b4a1d07d47bcdc1f5bc"},
    {"Variable_24", "cdf1cf80b50c6758dc6393eeba9f1700fafe3c172453708353c29a08192c4cf3"},
    {"Variable_25", "c4656259ea0a34943c530f8993edc8ef6723c2e8efd0f965634f53b575bd10c6"},
    {"Variable_26", "24e3217619ed747b1d0141ac57f217a3b5894f19749210ab7ecc61d94e0bda7c"},
    {"Variable_27", "93d74720ae25491076b20a09682559ce0c0653d6d2e4281bbc8d7d61beaac358"},
    {"Variable_28", "4262e251d95b71a22d1915fb8e7bdf09d984f9f39eeabea45ad3ab054b951622"},
    {"Variable_29", "75bf76a0cba37f0a4ee9282fc5803961861f061cc8dfe85a89feb821405e5230"},
    {"Variable_30", "07ad7c68ff108aa80672d187874f57086196a1e33c2d2f2825829bfd6ac88659"},
    {"Variable_31", "50a8b5e5e08ff0d789c59da64de10a6ae476ca5cc4400b06d4653bf229eca16b"},
    {"Variable_32", "e6768d7af4f8ac4eb1bedf9a45e9ffb2929d86c3599e81c138644b456657f8a8"},
    {"Variable_33", "b931c078e4c6301dc3c12b9635ad7c44430a79cb3357c2044eff1aa18704c053"},
    {"Variable_34", "8e720a25db36c8333d59f753130ec26336668fb65a9087dba056e4584064e585"},
    {"Variable_35", "56c72a1349a8ff7971d600e7e01f58ea34b9e9a82bdd685c97cf6701d4ba9cc1"},
    {"Variable_36", "dc2551628b4f5b4ff631b136f501580a36a09385c7bc7d4526f92cf9076fe9e7"},
    {"Variable_37", "f3854a2ef3e97d85b723f7b6c6d8bb163b8b2b369ff315f0c4629ff0def2cdf2"},
    {"Variable_38", "744e191e508af13f733f6b7fd0fe2bd63f7638566fb2a1f1ce9875aab7a80d1a"},
    {"Variable_39", "9525a21d8de25e9296f76c5346c36153b7629e2c01c1407b447eb958f3f5db00"},
    {"Variable_40", "408aac2388fafdad7a0ff3e94d87b33c41ecc6e3f696d833893ec020d1abc0a2"},
    {"Variable_41", "559589d4761746094cea8656a3a9558fe678e181efbc03f14e8452901b6644d3"},
    {"Variable_42", "b1b0d83d98a346c0d04a623336bf83e1cb8cf507f6ae8d749b440e33d002467d"},
    {"Variable_43", "eab6fdbda558c66ca900bb04356b80dd8e709a4c157330600947d56f598ded5c"},
    {"Variable_44", "83eb6024f241cd20cb6aa4b62257df8ebd16356ad41d42c71386584be92c1531"},
    {"Variable_45", "246b21e08ecc48c9264dd58d0b5c5f7130dcec23e327f5ed57c2836f522bd043"},
    {"Variable_46", "241a5fb41f10cea3e0ade8e67cf90290bd84102c9d951d845735bf4e9711b8c4"},
    {"Variable_47", "8aaba4318785d27a8a02cb126138d00e1fe637cf50bcb166011060f4aecfe738"},
};
static const model_file fast_rain_princess_files[] = {
    {"manifest.json", "e03432142aa5e7f85776094d69bf5b90b11ba4498026d5ba2c73fefefbe35bf9"},
    {"Variable", "dff3e6faaac775ad4e513c0df12a9a3bd2eb13b0849827c4dc16863a82325904"},
    {"Variable_1", "8e95d0a3d1ff78e6b5f5dc84e074e42e47b0277db29cb5b17dc4748fba4eb236"},
    {"Variable_2", "1609c32722c44e5c675bc59ddddec012b632d9ba5c1993e6f815264d1a4e2e0f"},
    {"Variable_3", "e05f59279472557b85e75722284fe2e1da91a6b8aea5bdab790e73abec570634"},
    {"Variable_4", "f5d82dac172648a8ae615782d7886ed9c623977e0a1d0c8bed15d0a92fd46033"},
    {"Variable_5", "84711e5fd34208c0fcea88d97f98eb3303876e3ec7013a290e1488af488b6074"},
    {"Variable_6", "7d09f9c156cea5f2f6c6762d61bcab256e00bbcce66d0287226fac11ef507100"},
    {"Variable_7", "fb62fe2d14bd6933485a77c478520ebacea3f9b393d995d16a61af7405de2d88"},
    {"Variable_8", "4149a08a4f33c0cc6b2c9ba9bb30e84856c569ea2b9a0346ec6d4f16de2d9198"},
    {"Variable_9", "fc8d34bf2c2c1c3e28d7665a21827d928f71abb344b413af8981c62ada931d89"},
    {"Variable_10", "50c8381da95a322e0f278d99c688fb6995f14f30dc10c6f8ad56d8f7a52c449d"},
    {"Variable_11", "fb044f69b0fcc9832f420b78a625112962d466807b29c534749314c1f76cc3fd"},
    {"Variable_12", "ba0c0354fc1075f502d29a6a36fa893c12c94f875e9d86ba56bb8987555e4042"},
    {"Variable_13", "7cc7062141804b6b37e12e2586d213ca30debec45b258303adc250a1bca64dd0"},
    {"Variable_14", "41532e21dec1250c763f3845b7f3ac20c4dee71d8dcb9c0e86e7bff440963d79"},
    {"Variable_15", "50d55b5cf8a8c1f3dd804585a75c8dbce0359a8b20d2d9629afe242180a8e4a8"},
    {"Variable_16", "6732295a506b7f653689c17f8bc06dd377796e76d5ef54b26a1b52b8be874eaf"},
    {"Variable_17", "fe4ee1282c1e955e99c8dd63a7b1040b603342630a18639df4ec7ebb85212bd0"},
    {"Variable_18", "000c76468df4d0c0bbf256420ad5ce0436f1fe9d464c0b11cdd9052d14446766"},
    {"Variable_19", "8a07bad9fe11d7ad1637efc14137690c4c1e6a243133b4373a6b93aabc2c96f1"},
    {"Variable_20", "e0fe3aa64defb4342353d25a621ecece7f8f6ca5c920db43c61dc032821ba886"},
    {"Variable_21", "820b48556ce4e6e1b10acb93e314301e8b40cb51e15d2b3518161b3c4b8a8b63"},
    {"Variable_22", "4b10d8a012b36a72f8e348886dc6f487782d7e4222fe65430e999901be8cd12b"},
    {"Variable_23", "78c49047b7e637ab9a99fe39341e8614302afb750bbf67981c8d0882da07ecba"},
    {"Variable_24", "b9af4b903cb23c9ed2a8bd40277d1e1389d07fba61728a15c22536d0b266ea12"},
    {"Variable_25", "58b45b51f7abf9d7e6ee8902dae15aaf8f7689c025644ef41f4672397a241428"},
    {"Variable_26", "6b61a5e3aac39ed1c0d296d8dc169168fec0c6d880bc1c1ed5915518e3d20baf"},
    {"Variable_27", "1f2b402c1c608fe2f11e40e3fd1e08a601060d91797e63afff0db2bc0093b282"},
    {"Variable_28", "e645f2776f7b24db3b23bd8df2055c4d1f9b554e12195fdb38f2fd496893e90c"},
    {"Variable_29", "dd43f465c8435c675008b9e3023c239216c7059167983e5fcb6e2f041efda8e3"},
    {"Variable_30", "0b9163e898067f604acf93d831481856b8e2d8a0de29368e072afa8731ec1069"},
    {"Variable_31", "51d933582fe45cd9d56f144aa6e27943df7752577ae78c92695737ce370691ed"},
    {"Variable_32", "5d1b21e7a614076f436d9f8ff5bfaff4c960a978b545b8a66c09b75e52801474"},
    {"Variable_33", "3207f0e76e3fc1997c6f1007369b8014cf677b3a205c97d0ef15176f47746b7a"},
    {"Variable_34", "a4605323fadebc088d730b8a00e16fd30a7e3a15322ac082ff0e3a7f527286fc"},
    {"Variable_35", "bde96d8ceb1853bde27523f8b560043e2d97b0cc849143df88545ec812f3dc6a"},
    {"Variable_36", "c2effb11edc8adfd3108294c52d3be10f600249817fab8e2130e707cfe4fb837"},
    {"Variable_37", "b99ee63ea738dcd3b003070a8d2da7ca74c3197c7b114fdc3a8dd84574b69e4b"},
    {"Variable_38", "3449a49f34c47583791c204d1b01436f2a6f99c45a01c727bb4904164b8e3c1c"},
    {"Variable_39", "9dd04f414b822ae2250771784cc1360958e037c66e2c233283f7394eaa546572"},
    {"Variable_40", "f2a63b8fed9baeb02e15c92ee01c2132c23cf88db617ef3e2811dc88cb67a6d8"},
    {"Variable_41", "45efe354ec5ffaee90f04accc022879708f5aa4fb97655dc6ee2efabe60f6f98"},
    {"Variable_42", "7eb892822c7b1db45d3db42ef715202966ead413b42f2792e7fa538028c38a8e"},
    {"Variable_43", "48ca0d8a6be079718aec1dff55c72bb33c56b02125e901578d8296add2bd110f"},
    {"Variable_44", "17973bc4aa921880bbc59cf6de26507c8fed36a415bc307aea724b93f3b84720"},
    {"Variable_45", "b4f3e3ac486fd1984bebc6f7ec44a548b4464f08828626fd1bb32d760052a6a6"},
    {"Variable_46", "91ad41936f1a2815901bcbd779f3917fd364034dc258e0ae33f4682f5dab91af"},
    {"Variable_47", "e621cb263a95939f183b8c42f1a953ce8723b76187d95b27963813a2ee2606a8"},
};
static const model_file fast_scream_files[] = {
    {"manifest.json", "e03432142aa5e7f85776094d69bf5b90b11ba4498026d5ba2c73fefefbe35bf9"},
    {"Variable", "8308f3e49b4a3f20668b72935837abd9add914185c90bb326bf157a3cdb72595"},
    {"Variable_1", "a7804fc293b7b6fdbb9afc52343eb6a03d57be56396638ab65b971a0b5481c2f"},
    {"Variable_2", "79d8e27d881692778c7121518f47b0b8eb855419552fe0a91b5ec62a9eac0a4b"},
    {"Variable_3", "92dd3354404abe6a8796b64b6310125ed9e597a4d1980a3c4ad87d85cde771cb"},
    {"Variable_4", "e40f4af521c4c8a3f9f40eb1b8adb98947fe881c2944333f63c06102a3257262"},
    {"Variable_5", "2b7f17f56d6f0cb9585e96c7b917ec23fa4f596020c2bc2c0b15a3a661d5b221"},
    {"Variable_6", "79fad4b046c1cc21fbf6e385ea9eb0648935cdd85eec6741a4a4ac0666d96059"},
    {"Variable_7", "4d523052cae199a61d8c0b3bc75c84366cf45278c5267bcf7ac06df1f953c934"},
    {"Variable_8", "1ee9aebfb615a04fb0de18df50e337a49332d5ed211bb13b6d80aa83d8e4ab93"},
    {"Variable_9", "44669c3073eb235f77e95fe50adc54be9d9472bf90ce084add438eb922c88a5b"},
    {"Variable_10", "202629cfcf8054753b0c571a4ce9818e67365a6d4f005620fe24e64cd2a70061"},
    {"Variable_11", "7d07eff9d5422f6a3186fa80a8bbd49dc991918dc29f2f97716fd964f9e0a9c7"},
    {"Variable_12", "4868534f7d60fdd74763f08bde71217616e2602fe356944cfd7d52e058f20cb5"},
    {"Variable_13", "4f5004accd9d340e8c16befe40d5679d104ac46508e3a9855f849bd87f66853c"},
    {"Variable_14", "861577903a4a63eabc9d964a38fb3dc0e2a248738314d80b92d5f94dd4db6580"},
    {"Variable_15", "79d567b4ed02b041399885f29956f3c4d6f2ccf14e2b24263d23f5826266f911"},
    {"Variable_16", "5b6e8fa6ee820df2bb0186812a2d9482b1e51c051d5f0885198a767e9669366f"},
    {"Variable_17", "e307299ab0e9364ebd84eb37473b16f03b2368c8b033a356da054ef1d793d5a4"},
    {"Variable_18", "e3223775e60fe20fb77062ea314663fb0a4a7c24bceef47d8c205cdd76f9b2bf"},
    {"Variable_19", "37d597e5575312af39db15433f272e971b67bdfde5fa8d7c03d0c0d53c819e67"},
    {"Variable_20", "a3d804e95e82981fa93ac132cbd0f9673ad585cd433bc02d512cfaffd17d1df2"},
    {"Variable_21", "daabca81446ec86fad759fb506fbc393dedf17dd7896956b8a2a97f9286d1110"},
    {"Variable_22", "f88025d8941d1d33c7335760503dbba07d0ee1497d846750c4bf2d97a7b0f8c0"},
    {"Variable_23", "947de7c3fc1b06fd5a6ca27689080cf08de100f0156acdab2fd369a4e0184dd4"},
    {"Variable_24", "d17699756e7b0a64e3acce4fb76ce921b6c6f8bd37d2954d790002cdc45ed42f"},
    {"Variable_25", "0a3c3fa5b354a3d88a3f47b7b8ee78a1c919ae69ffd1f04ef557bea3f0d30988"},
    {"Variable_26", "8cb55d4994b1792cce68c80ee5ed5bd3892cee9ad47dc555e2383b1e8c86a76f"},
    {"Variable_27", "04960b6294d6f2013fd6dbed75323a45469b1eed829e356a2641e5c29fd91062"},
    {"Variable_28", "6d97da3ec434efbe06402ca6ecbc260e04caf102530ac326c1455fe6afd38579"},
    {"Variable_29", "1d5699e19b3d8a17671450807ae10bb230ee7960d0b744d2889dfbb87bf97ce9"},
    {"Variable_30", "fefe2a918d8d410d2b842cb266ed26098f7b6153ca374e633b5a3a4becff8f09"},
    {"Variable_31", "b74c250df918c383b96f17d7e8227a72327e52610dbac47c0d06d0c3fc2f5814"},
    {"Variable_32", "e32943389b233cdde284ab8f7926150fb41fce975e4edecd3d6f582bac8aa767"},
    {"Variable_33", "2e735fa48d4b416d243636391da3940ca718d471f708e7d7214ad452bd420837"},
    {"Variable_34", "bb07d63fc29f7903db636183c0cc36271d3bad486c0461bf1c9c5144d1d47172"},
    {"Variable_35", "c5a75187727a603bf0fd7efcde4e35a492ea9702962e80db05c0a5fb5b950f33"},
    {"Variable_36", "b8f591ff5de932f42a1ba5928a9c21265f7714c0416e4524dc758969909bac6f"},
    {"Variable_37", "eb8f63c24675430bcb0e40436ae069872c81751f5ddefcd3e12a901ec2bcc158"},
    {"Variable_38", "38f2036378de04bdaad3a811dc021869cf8d3305716c3ac7d59c5adb176fceb9"},
    {"Variable_39", "6553a22551c9676d97d8a438cf78374bca38dfb2671d86ece5b84fde170ddf04"},
    {"Variable_40", "4f41e444d5a7d8dfcdc8af0900f4d1733fd4e5836f8485aa637e7122b1535503"},
    {"Variable_41", "c6f79f71ee01be0d1266297d42ddb76934dc6729714f8d531e86c66c7c54bd7d"},
    {"Variable_42", "dcdddaf115b4d6c3d03166aba46e03062fe9f311cc31329d1f61bd4beb0ef4ce"},
    {"Variable_43", "c1b075dda5d537e77ace9ad6317d984548f6825fdd703336930f11dbd38ee7e0"},
    {"Variable_44", "43d4f6f5ebfd1874a3947ca51bb979133ce984b7568b1d546430f8a59282c656"},
    {"Variable_45", "85176befa476f79f4973371742ad125757e45f48d367f7b5d71f4735309434b2"},
    {"Variable_46", "29094472f1ced12b8869afaf91f7391eb6b54f72f445eba383e9e8645a3849d8"},
    {"Variable_47", "fd574ddf01eecbb74cd4fc19a06fcf0e320517e1478ff1be4afa93a9a65e886c"},
};
static const model_file fast_udnie_files[] = {
    {"manifest.json", "e03432142aa5e7f85776094d69bf5b90b11ba4498026d5ba2c73fefefbe35bf9"},
    {"Variable", "999419eafd6502adb527ec8ce98e1abc6029f309035d182b24e1589f7c0c021b"},
    {"Variable_1", "0e5b6ec6dc8c4bbcf811b30ec2b5ccff7de9df730161a6a4b156f557df518ad3"},
    {"Variable_2", "667ac5de7ffe14c0eba0941141905e88961f1bfc689fdf1538af03e1a088c3b1"},
    {"Variable_3", "8efb5761e1c0f6ebcd4a52862d62a17da0d898e0168de050f64d658b07cce051"},
    {"Variable_4", "dbb68a24b5f8d0711ff612bcea139addab20e8bae1f832d3e23e74b38f984698"},
    {"Variable_5", "a70b2408c58b09493b8e3921f64796d4fc0a951d7a0563d5cbdbb0e5bd68ba7d"},
    {"Variable_6", "830f3c3b541bd8025ca4c1fd991f6bd0fc9bfeaefe741d6769ecb3cb0ce99743"},
    {"Variable_7", "ed10e22c2a83e96930d5f9ce82b448be61f5e9a91d948e7ac99629e18249df7b"},
    {"Variable_8", "380f88749953189950fbe2a39e5437b7295b591fa3c3214647a7dd14a64c7af5"},
    {"Variable_9", "1adcee49de24c1e4fe62f2dea433d477296720fe0df16073b8be88ddac994024"},
    {"Variable_10", "60187e1077594e18b0500e0e46a77e2badf90e247f211adc0420d9a759d829da"},
    {"Variable_11", "48b09c16f4f987f084f5b9c31982c3e86120326b973cadf634c8763fd47fe692"},
    {"Variable_12", "831f016daae3d21261eca8f9a604df45b2aec3d5baff53f619941fdd02565926"},
    {"Variable_13", "14424a330304ccc840493c086e6478ff0d02f5cf1f540cc106251ca87fe8d359"},
    {"Variable_14", "a5f86ddcdbcacb373061f9c1b748de5e4751ce62b3c78d060b2a5bd31951ace4"},
    {"Variable_15", "12bb295b7349e9a299ec856ab561a94bfcb55d4dcef32e32e13b30792494454e"},
    {"Variable_16", "1bb020f48ad5c86027311cda5d1c2733ad493f5b4ab242e220058796ece8f5e8"},
    {"Variable_17", "e5fe54d1d4d66f1d17cc8953de62c65be7613edc8e803278ef0cbb97e6dd78d1"},
    {"Variable_18", "d32fcd9d33e84076eb8a99d891fd839ef2bbc4abecaf634b56c5c6b975818dc0"},
    {"Variable_19", "922285cf65b9edb89169f55cb4e37ee8812ae8ff09659645e04c14381d40b315"},
    {"Variable_20", "b7ed41f9fb3350f45dfd3efa75a18f1e8b7ae42eb21cf6cd5251df6588131ab6"},
    {"Variable_21", "cc28b4431a0c3cd7fa631ee7a4ed88876f4b60ba17216ad45195ae0caee0ff1a"},
    {"Variable_22", "e7e5603e73011ed1e9703ec54804eb50baad4085af35a04d92b5175f3bfd6af8"},
    {"Variable_23", "c610095cf709c1f4c8c761e982fa4e62dabdf0469405a8910f52988ed8676e30"},
    {"Variable_24", "03d20c97d508bcbe2fea4c05d3cf466f5743b2cfb806a30db781f2e39b86a3cf"},
    {"Variable_25", "83d030dd72089f7dbb826aba9678f9a110b2bc20b33ebba14318f891faf9830f"},
    {"Variable_26", "61b87e57e6b20d6f9331ff6c60c54554dc5198a09571032b84c04b07c5cdad47"},
    {"Variable_27", "e54f46ce4f0866d48b48541bde63bb27c2fd61eec524b46e779c10b4ebc6f522"},
    {"Variable_28", "9edd3f10454d5cacf3796535e1d80504f823e733c3dca6739b69628578a9db99"},
    {"Variable_29", "01bbe1f96de6adbd9f2a9eb28a44d6be2552d67126c855fde52934b3ffd26551"},
    {"Variable_30", "2abc9c1649ccac89632ad0a1269a19381c5366e62a7564e994bf456dc84252d3"},
    {"Variable_31", "adddf69b3457d51118096bea890d38b64978b78b2505c1f6f06f3f340f6c484e"},
    {"Variable_32", "e73df7c7f964295b76df09d168099ef32526c8d46816b91f453df79006d8710d"},
    {"Variable_33", "eae259ade28e2b0a03d636aef4abea191bfbadea83cbf962945f52a32b6dabb2"},
    {"Variable_34", "35b9df8e1acfc2e6576bd311b54e55d8a24d3d6a947ce19ce9d0736e06aba946"},
    {"Variable_35", "c2ff91a0be10f24f87de213457b71367df407ca72c96b51ddd12cbc45aa5684f"},
    {"Variable_36", "1df28d33471e7bbe542f865e5fbb246fcfd16174a81b02a970d0d5b920b9c5d4"},
    {"Variable_37", "066eacbe29ffb36cad2e3988b0364cdf5e7cfecc618a719ddb37cb30dc085414"},
    {"Variable_38", "a219939fc8632c6fcc24113782e45981ead299f6d5e704a743e053e0cabf714f"},
    {"Variable_39", "9f43ce7b47275c8b496d4efc6beb9c9bb872b894b9b309c1f240947daf617203"},
    {"Variable_40", "b3d2afcaaa9bf984e1cccb9467ca83dcd56326b617bf93c2201099ce8ef9659a"},
    {"Variable_41", "5c7150ed301728dad58157a6db0d27b7686f2c974ce2f297c2622f4ca31c5118"},
    {"Variable_42", "6eb4d1c6274a7db701d8356a9ada223c808154028546e1e8828c84d2a4240344"},
    {"Variable_43", "bdf21d99273c78b79df74740109f6102ae58d89e8480acae6dbedc2746c0bf85"},
    {"Variable_44", "d9c07f694c009745e3ead4f18affd45671b1d7ac1e9fd97575f31e40fb6cc452"},
    {"Variable_45", "f273fcc8299423477fee15149486148f483d54ebdeaa1ef6df09b7d9cd12d329"},
    {"Variable_46", "877ca9ffb82fa5f435f6838fc9ac33c4b7a7e246a2671a20688c79efe11cd78e"},
    {"Variable_47", "ac3e020206aafe033f931e1ecfcc01a0e081bcedec490dfae98c5acc0b4d0ecf"},
};
static const model_file fast_wave_files[] = {
    {"manifest.json", "e03432142aa5e7f85776094d69bf5b90b11ba4498026d5ba2c73fefefbe35bf9"},
    {"Variable", "64fc05d3b3ce0ece5b0d06fb9fbd9f8dc3acc7eaff1b9fa04deb1a043fab1897"},
    {"Variable_1", "744fe8a5b724b8d7313c02ae8c3603463d5422d629725d04cbc46234d87cd99d"},
    {"Variable_2", "b44316d770249f2d099b907297fcce38ba743e31e0b3730a006277598e076853"},
    {"Variable_3", "a1d97565734bb55b7b45166ae52792388d1a53d278a8ec7c75d88116f5ac6a41"},
    {"Variable_4", "e1870d42801350d4fbc4d89a45d611081d913bb898c20b9da644bb32d805bf4f"},
    {"Variable_5", "7848a938d049cfc5fc921321cd0e2953c4d379172d412225f4d7fcae35eb59c6"},
    {"Variable_6", "17c6f47803044a49b24effd86628b587b835996a32f2d2fc8321d1c2007a0222"},
    {"Variable_7", "2b326e015958e5dfaf54b71d4d78ce5813c05c75a5f1ada50e5c87038b895082"},
    {"Variable_8", "52c0fc90f7d4d8912792d459dcd817d3fb35a03c8676552b9cfd1973ce4dc6c7"},
    {"Variable_9", "00cd6da8f8f358664b3aa464a588b7c0ef56c8e623c4b2a65821b17aa7743108"},
    {"Variable_10", "e8dc279bfd1f13b2342a7959da0bc18b773eaad22850d2f666c0c6cd2acd0128"},
    {"Variable_11", "436c67d7587de1d32f7d0d017fe69cd80b388086cb47cb9b1d38ddca2e61430a"},
    {"Variable_12", "74e27dcb7c749350852bba20753ef46e696dca357a5997bd1f963c8f6e949e3e"},
    {"Variable_13", "9c55799b0be62b1a5212251e8a3b88861c6071ab531d6d349ecefe815aa0e5cb"},
    {"Variable_14", "c2a5d1e791c9519229ef69f572d435d8a262c799db804720cbab7a746e635c93"},
    {"Variable_15", "f46a6eeba45d36cc76def5b443e88bf41eb270e53c5bed484cf2b3a59dc23e82"},
    {"Variable_16", "29cda68e8c0d2aef28312f29d6ba7e5913f5815d6c4bbd9242d789914e37f4f1"},
    {"Variable_17", "1343b95e5ffc6044512ecd498e0878c9b19509567f9f84d7998e66adbadcb1cb"},
    {"Variable_18", "faad071a30aebe3ab16925796259abcbbf88060641b29c9787548ffb80739748"},
    {"Variable_19", "de8703de2f7dc88a42275a4c090af763afa14af34454cfa0849a620a2012d760"},
    {"Variable_20", "d7f307ec9d55934df79126a77e339a8e709195d6b2fa50a66455686d2f9f6f7a"},
    {"Variable_21", "8131ba691ed33941416823ad6fc5a9b47efb4247d96f7a59b4f5a78730e0c90f"},
    {"Variable_22", "e3858cea5780917fecfba65af2b4b08abf5707044217bbbfa558d7769fcb869a"},
    {"Variable_23", "e150febe1b00deee97bda8508acfd4a5c03474003be99cf579c04ff4df7d7f1a"},
    {"Variable_24", "f57c612a8d97be4f1db6a8294d6bbf7a71775bbf84ef5a012735e4d1f560e552"},
    {"Variable_25", "daf1f1007af27f79d78530fddb9d562b002a1d53563869608b40bac4132c3f1f"},
    {"Variable_26", "520f41b0bda994418827e5b3c5af2dc7a4f2c2407d1a4bb6c2f09add011b234a"},
    {"Variable_27", "30743014291dc5e2a1dc734f9a552d2c9a8c33261fa66abbba81ed25acfe6a83"},
    {"Variable_28", "939b8c64755b83fd0164ba3390715ead9e98fa09567905c6cb96168df910d110"},
    {"Variable_29", "b12081be724291a36d581e3d1c57bec74d32d0802bc5399af2ce53e8be0e1a30"},
    {"Variable_30", "302c791b69ab232f040fe2e61253f34e96d1a877aaba0aef3ff59e8c01cb1dee"},
    {"Variable_31", "7a155aeeb51bd7390772b2adc2c2e60595f76bb4474f6712588cca6709e76c8e"},
    {"Variable_32", "4545c4890903defb13083203dd11e8d9304d0ef7e158192948fee9927d0d5a56"},
    {"Variable_33", "3932d6cfc4b11a4457324cce02226497af8b05e46a4c07c24aaf67c4aa79c6e5"},
    {"Variable_34", "e5561b2fd724a713a9daa4581811f63d3d6d6e1a3d4aece0237556a4af1bbd27"},
    {"Variable_35", "eebd41ea98b4ee0efa628bb83e0823c9b67a2e9b013ee59586bf73dffe9e5240"},
    {"Variable_36", "f490633be19a8ef591273d559cddeea6d324c9ea97bee5a0aa3f2c430823423c"},
    {"Variable_37", "977d77f3f29008a46a054870db3a78fe3ab2965f7f75fda56882e5f1e85d5a87"},
    {"Variable_38", "5ec0e726a689eab8da8ff080eaa69d18b737486426eb27dfed95855c054a723d"},
    {"Variable_39", "83bdd48ab369389506ba866d259556415662e4a6149172477173d53db3615f27"},
    {"Variable_40", "a050f54b24ff4ee82ecc34894990ebb7d4fdb647aa5f901dbbcecdd46e7ee1ae"},
    {"Variable_41", "1a718980112b73496d6b2ec682dae257edb13f171bd9e9801b018348f91e9dde"},
    {"Variable_42", "febb801141b6f355e0ad20341f3327ffd1443e2ad3647dca2bdd1ad13d7ede28"},
    {"Variable_43", "acccb691534af9f2ba37bd1b0aeefdcf2e06e01fb756aafeb584903c1637b197"},
    {"Variable_44", "71cbe5e1715e67d24c58ce1660768ffca7470c003f4aca564f381d723afa46f7"},
    {"Variable_45", "bff0ee22253e87895b408e7d0c6b4430b82a1330a93e4e8ac7302d9cde4197af"},
    {"Variable_46", "4e30c0b5ecf6f42fbfdcdf05be12afbd3d2769d34ed2664c0eced23d51bf2659"},
    {"Variable_47", "e3c80bd6946bec6c906a969baaadacab3c9a2155d64c2ba52fd0ddc9b99d76b3"},
};
static const model_file fast_wreck_files[] = {
    {"manifest.json", "e03432142aa5e7f85776094d69bf5b90b11ba4498026d5ba2c73fefefbe35bf9"},
    {"Variable", "4652906cb48067a7c14194cf480b3a0af9a78e22e6b26c094c6941a8075e97e9"},
    {"Variable_1", "be5be6b2bb70073bea29a038ec8bf5797ae0c1b85eb6f48006f075d5570547a5"},
    {"Variable_2", "131227c1d87841fc0bc439419f64ebdf66b795f0ecc83779684c5c45e8a01de8"},
    {"Variable_3", "e03f3d529f83b7bea3d90cf29b91ea149160c6385a7146ea5da4facb520e65ce"},
    {"Variable_4", "ec8e05d2d4ad6404b035104812d6083d6321c0e1c9b975a6e07edfaaeb8880dc"},
    {"Variable_5", "b5e83cf7a3deb589e2abdc421c947398c7150fb17a939dec300ab9b7f0684b57"},
    {"Variable_6", "40485d6a1ff075fe25be99ecf345a374a9f77b415ffc3db14996e427c3b46907"},
    {"Variable_7", "a6b7c9d6a3f88cbb8a15219fb0a1e35f421544043f347bed4452f2a4b35f2d62"},
    {"Variable_8", "f145433befce5c1e7e3d2eb47be799b832fe0d4d317a94651d280529190625fd"},
    {"Variable_9", "4d777bd9f885a6b1eae0e08d7c96a159c12f6d5585ce032c155d0e870d90708e"},
    {"Variable_10", "27d7b5b5c8995a2662e6e6f14dd76753eee358339202d014f079634100e0a184"},
    {"Variable_11", "20fb2698380a2cd0492ab49e2fb7474d4cd9487724fc5d6f73aa82b8b9fc1b87"},
    {"Variable_12", "d9d00a81905182c18d4781545a05ce03e017913dffc9d6d7d14eec12d5c80787"},
    {"Variable_13", "7155c610efaceca84517c5f42937d2a75a0af023ba6adef612e6fc2a970b5109"},
    {"Variable_14", "095f2e283f872c1ff5d4c0859f5ebb6297a1e57253fc5fdfb6c8c8b5f7a0bb58"},
    {"Variable_15", "503856afdf93861312ff1e0fe0f5831e5650001cf3967000c635a1aea9f3d18c"},
    {"Variable_16", "264456bf9353faba11223e5208fcf834014e522a330fdfcac31799a7e85432d7"},
    {"Variable_17", "bf4f69f238404712ecfa8b245b0a1aedc902eee67f54c45d4058285e44d65b15"},
    {"Variable_18", "ddaf419044f606405d6d9dd346ca311e841656c3356ad92a0868604f71889c03"},
    {"Variable_19", "31a3c94c31884a5ab8d29894bd7ecc09411443e61c00e8ee5e13052e16185b07"},
    {"Variable_20", "9573a164d2edc8643f3715b2b0da6d167124d189544b23de07e49f39f0d35866"},
    {"Variable_21", "11b979f5190e2c317836bf61ad1d6543c48c7887f5863f488bdb49b760956b52"},
    {"Variable_22", "61d5e0c33565c66a5af0e07ac5697fd3739f782c226cc9ef2c98945619d50968"},
    {"Variable_23", "bc8251a68aabaad7025f5405c52a1b223bf8573e064dd424687898e9523bb0e5"},
    {"Variable_24", "51bb65e99fb94d4e86783489d1dd47c20d77b7129c8c9635b32b182bcfd785a6"},
    {"Variable_25", "8d525a3553785fccb0075d3b36736e2d1f108e54cfa32ea873e31a8b84a610b2"},
    {"Variable_26", "f0bcc3a942d73a580e7aa95cf1d5be02632315130d2e0c06dec7d510fd24f89f"},
    {"Variable_27", "e048a3021ed8c9f7a0b1095aa44d68f81dbc13b1e21a8f7441cfdd220e5048ef"},
    {"Variable_28", "ee5d7a508768f53586c02c879899c8253cb689e2c12362cd7a62d98bef63763a"},
    {"Variable_29", "7b62773052cbc274f9a7fd7d4e7353bfad7079813b09a0d75e7fb6b10c8d55b7"},
    {"Variable_30", "14aabb73796fc3e0fd6846ef71aef09ab0cb7a07d02db8034c33bea8910b26a9"},
    {"Variable_31", "5d6a9597bb117ea2ba8492b08a6ff44a78bbffab676604e5d074fc5eb725d047"},
    {"Variable_32", "07a973b7b1ab509ddd461eaa08e17e79e1b4a76e4312646a9fb205e23878c960"},
    {"Variable_33", "6bbb3e3330f1d22848aa78e8084dc5ac0001312d65627fb9d04ac4c82ef786f2"},
    {"Variable_34", "28ce8179261d9ca6eaf3803c52b96cadaf5430c88adf2905fb9c5fae1ef6410b"},
    {"Variable_35", "c28edfb9755b2591480f99e8b514dd39d87c5135cb859150695ee13a0a921a01"},
    {"Variable_36", "7dad4f18ac56beb9b1e2e9fedc5264fcbb2f1eec06196d330f8d2fa2a40c5163"},
    {"Variable_37", "6db3b0c74aa406ba4a140535df394f4c41cd6b51b5d8c065def0990f28d599f5"},
    {"Variable_38", "dc50d8c2b7bfa137dbce1e253048bf9ec2631658db70a79975e37e92eea7bf31"},
    {"Variable_39", "0cf2f3e6a40250dd769d3a9ac372082d16f9473f2d5903044fb992ba3853911a"},
    {"Variable_40", "02978714b67f5b2724ce0ab45cb3d70fcf7ac3e8f865b2a9a62d79b3cc85a654"},
    {"Variable_41", "0ced5ddd17fc8224ffd665a6819c77c4c18cabf25dcf130bdde5846c5ceeb1ba"},
    {"Variable_42", "9340271d79ca580f5a0f9b2e0bd7add5c08e31bd89fde1a07ebea81d886e566e"},
    {"Variable_43", "0b474ca568f51d3b6681e4c2c05c000cb07f11e30a8007818cb490a48ad28d9d"},
    {"Variable_44", "657c4f5aa0749ad30f4a4c044621c88dc151b4ed9db7855323ff6a1d3b66e6dc"},
    {"Variable_45", "76f80bb3e9c9c718b27ea68ae40cf2c10665936d84307bd3d5320b6e9a6d81ba"},
    {"Variable_46", "2e3578da480258f042e9e08d01453da7f8dc4e38cfd68d38a34dd176a412e679"},
    {"Variable_47", "ed39abffa3f9c97d2ff70459da51b15f1924d3dd555de19447ee99b94e0c9328"},
};

/* Magenta's arbitrary image stylisation for TensorFlow Lite (Apache-2.0):
 * the int8 style predictor and the float16 transfer network. */
static const model_file magenta_files[] = {
    {"style_predict_quantized_256.tflite", "203dbd6a09da1091ab7e48e8b101aef8c2d81438ad047a5cb150747a977134c1"},
    {"style_transfer_f16_384.tflite", "c60cff7395544eda1f0915d6dddaedd8ed868cefe8ec6c5ed220ba801f120303"},
};

#define COUNT(a) (int)(sizeof(a) / sizeof((a)[0]))
#define ML5_STYLE "https://raw.githubusercontent.com/ml5js/ml5-data-and-models/HEAD/models/style-transfer/"
#define FAST(name, painting)                                                                 \
    {{#name, "style network", painting ", fast-style-transfer (ml5.js), 6.7 MB, for nst apply"}, \
     ML5_STYLE #name "/", COUNT(fast_##name##_files), fast_##name##_files, "fast/" #name}
static const model_entry registry[] = {
    {{"darknet-tiny", "loss network",
      "Tiny Darknet ImageNet classifier (ml5.js, TensorFlow.js layers), 4.2 MB; the default"},
     "https://raw.githubusercontent.com/ml5js/ml5-data-and-models/HEAD/models/darknetclassifier/darknettiny/",
     COUNT(darknet_tiny_files), darknet_tiny_files, NULL},
    {{"vgg19", "loss network", "torchvision VGG19 (ImageNet), 548 MB; the network of Gatys et al."},
     "https://download.pytorch.org/models/", COUNT(vgg19_files), vgg19_files, NULL},
    {{"vgg16", "loss network", "torchvision VGG16 (ImageNet), 528 MB"},
     "https://download.pytorch.org/models/", COUNT(vgg16_files), vgg16_files, NULL},
    {{"magenta-arbitrary", "arbitrary style",
      "any painting in one pass (Ghiasi et al. 2017, Magenta, TensorFlow Lite), 3.2 MB, for "
      "nst apply --style"},
     "https://storage.googleapis.com/download.tensorflow.org/models/tflite/arbitrary_style_transfer/",
     COUNT(magenta_files), magenta_files, NULL},
    FAST(la_muse, "La Muse (Picasso)"),
    FAST(mathura, "Mathura"),
    FAST(matilde_perez, "Matilde Perez"),
    FAST(matta, "Matta"),
    FAST(rain_princess, "Rain Princess (Afremov)"),
    FAST(scream, "The Scream (Munch)"),
    FAST(udnie, "Udnie (Picabia)"),
    FAST(wave, "The Great Wave (Hokusai)"),
    FAST(wreck, "The Shipwreck of the Minotaur (Turner)"),
};

int nst_models_known(const nst_model_info **list) {
    static nst_model_info infos[COUNT(registry)];
    for (int i = 0; i < COUNT(registry); i++) infos[i] = registry[i].info;
    *list = infos;
    return COUNT(registry);
}

static int is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int exists(const char *p) {
    struct stat st;
    return stat(p, &st) == 0;
}

void nst_models_dir(char *out, size_t outsz) {
    const char *v;
    if ((v = getenv("NST_HOME")) && *v) path_printf(out, outsz, "%s/models", v);
    else if ((v = getenv("XDG_DATA_HOME")) && *v) path_printf(out, outsz, "%s/nst/models", v);
    else path_printf(out, outsz, "%s/.local/share/nst/models", (v = getenv("HOME")) && *v ? v : ".");
}

/* Append an existing directory unless it is already listed (by real path). */
static void add_dir(char dirs[][NST_PATH_MAX], int *n, int max, const char *path) {
    char real[PATH_MAX];
    if (*n >= max || !realpath(path, real) || !is_dir(real)) return;
    for (int i = 0; i < *n; i++)
        if (!strcmp(dirs[i], real)) return;
    path_printf(dirs[(*n)++], NST_PATH_MAX, "%s", real);
}

/* Local mirrors: $NST_MIRROR, ../shared/models from the working directory
 * and from the binary (build/nst sits two levels under the project). */
static int mirrors(char dirs[][NST_PATH_MAX], int n, int max) {
    const char *v = getenv("NST_MIRROR");
    if (v && *v) add_dir(dirs, &n, max, v);
    add_dir(dirs, &n, max, "../shared/models");
    char exe[PATH_MAX], cand[NST_PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) *slash = 0;
        if (!path_printf(cand, sizeof cand, "%s/../../shared/models", exe)) add_dir(dirs, &n, max, cand);
    }
    return n;
}

static int search_dirs(char dirs[][NST_PATH_MAX], int max) {
    int n = 0;
    const char *v = getenv("NST_MODELS");
    if (v && *v) {
        char *copy = strdup(v), *save = NULL;
        for (char *tok = copy ? strtok_r(copy, ":", &save) : NULL; tok && n < max;
             tok = strtok_r(NULL, ":", &save))
            path_printf(dirs[n++], NST_PATH_MAX, "%s", tok);
        free(copy);
    }
    if (n < max) nst_models_dir(dirs[n++], NST_PATH_MAX); /* may not exist yet */
    return mirrors(dirs, n, max);
}

int nst_models_search_path(void (*each)(const char *dir, void *user), void *user) {
    char dirs[16][NST_PATH_MAX];
    int n = search_dirs(dirs, 16);
    for (int i = 0; i < n && each; i++) each(dirs[i], user);
    return n;
}

static const model_entry *find_entry(const char *name) {
    for (int i = 0; i < COUNT(registry); i++)
        if (!strcmp(registry[i].info.name, name)) return &registry[i];
    return NULL;
}

/* A model's directory in a mirror: its subdir (fast/<style>) or its name;
 * installed models always sit under their name. */
static const char *mirror_subdir(const model_entry *e) { return e->subdir ? e->subdir : e->info.name; }

/* A model directory holds model.json (TF.js), manifest.json (deeplearn.js)
 * or one weights file. */
static int model_at(const char *dir, const char *rel, const model_entry *e, char *out, size_t outsz) {
    char p[NST_PATH_MAX];
    static const char *const dir_markers[] = {"model.json", "manifest.json"};
    for (int i = 0; i < 2; i++) {
        path_printf(p, sizeof p, "%s/%s/%s", dir, rel, dir_markers[i]);
        if (exists(p)) {
            path_printf(out, outsz, "%s/%s", dir, rel);
            return 1;
        }
    }
    for (int i = 0; e && i < e->n_files; i++) {
        path_printf(p, sizeof p, "%s/%s/%s", dir, rel, e->files[i].file);
        if (exists(p)) {
            path_printf(out, outsz, "%s", p);
            return 1;
        }
    }
    return 0;
}

static int model_in_dir(const char *dir, const char *name, char *out, size_t outsz) {
    const model_entry *e = find_entry(name);
    return model_at(dir, name, e, out, outsz) ||
           (e && e->subdir && model_at(dir, e->subdir, e, out, outsz));
}

int nst_models_resolve(const char *name_or_path, char *out, size_t outsz, nst_error *err) {
    if (strchr(name_or_path, '/') || exists(name_or_path)) {
        if (!exists(name_or_path))
            return nst_fail(err, NST_ERR_IO, "%s: no such file or directory", name_or_path);
        path_printf(out, outsz, "%s", name_or_path);
        return NST_OK;
    }
    char dirs[16][NST_PATH_MAX];
    int n = search_dirs(dirs, 16);
    for (int i = 0; i < n; i++)
        if (model_in_dir(dirs[i], name_or_path, out, outsz)) return NST_OK;
    if (!find_entry(name_or_path)) {
        /* a misspelt name: the closest known one, within two edits */
        const char *near = NULL;
        int best = 3;
        for (int i = 0; i < COUNT(registry); i++) {
            int d = edit_distance(name_or_path, registry[i].info.name);
            if (d < best) best = d, near = registry[i].info.name;
        }
        if (near)
            return nst_fail(err, NST_ERR_ARG, "no model named '%s': did you mean '%s'? (nst models lists them)",
                            name_or_path, near);
        return nst_fail(err, NST_ERR_ARG, "no model named '%s' and no such file (nst models lists the models)",
                        name_or_path);
    }
    return nst_fail(err, NST_ERR_IO,
                    "model '%s' is not installed (looked in %s%s); install it with: nst models "
                    "install %s",
                    name_or_path, dirs[0], n > 1 ? " and the other directories of nst models" : "",
                    name_or_path);
}

static int mkdirs(const char *path, nst_error *err) {
    if (!make_dirs(path)) return NST_OK;
    return nst_fail(err, NST_ERR_IO, "%s: cannot create directory: %s", path, strerror(errno));
}

static void remove_tree(const char *dir, const model_entry *e) {
    char p[NST_PATH_MAX];
    for (int i = 0; i < e->n_files; i++) {
        path_printf(p, sizeof p, "%s/%s", dir, e->files[i].file);
        unlink(p);
    }
    rmdir(dir);
}

/* Fetch one file into the staging directory, from a mirror when one has it. */
static int fetch_one(const model_entry *e, const model_file *f, const char *stage,
                     char mir[][NST_PATH_MAX], int n_mir, void (*log)(const char *), nst_error *err) {
    char dst[NST_PATH_MAX], src[NST_PATH_MAX], line[NST_PATH_MAX + 64], hex[65];
    path_printf(dst, sizeof dst, "%s/%s", stage, f->file);
    int rc = -1;
    for (int m = 0; m < n_mir && rc; m++) {
        path_printf(src, sizeof src, "%s/%s/%s", mir[m], mirror_subdir(e), f->file);
        if (!exists(src)) continue;
        rc = copy_file(src, dst, err);
        if (!rc && log) {
            path_printf(line, sizeof line, "  %s  (from %s)", f->file, src);
            log(line);
        }
    }
    if (rc) { /* no mirror has it: the public origin */
        path_printf(src, sizeof src, "%s%s", e->origin, f->file);
        if (log) {
            path_printf(line, sizeof line, "  %s  (downloading %s)", f->file, src);
            log(line);
        }
        rc = download_file(src, dst, err);
        if (rc) return rc;
    }
    rc = sha256_file(dst, hex, err);
    if (rc) return rc;
    if (strncmp(hex, f->sha256, strlen(f->sha256)) != 0)
        return nst_fail(err, NST_ERR_FORMAT, "%s: sha256 mismatch: got %s, expected %s",
                        src, hex, f->sha256);
    return NST_OK;
}

int nst_models_install(const char *name, const char *dest, const char *mirror,
                       void (*log)(const char *line), nst_error *err) {
    const model_entry *e = find_entry(name);
    if (!e) return nst_fail(err, NST_ERR_ARG, "unknown model '%s' (nst models lists them)", name);
    char def[NST_PATH_MAX], mir[8][NST_PATH_MAX];
    if (!dest) {
        nst_models_dir(def, sizeof def);
        dest = def;
    }
    int n_mir = 0;
    if (mirror) {
        if (!is_dir(mirror))
            return nst_fail(err, NST_ERR_ARG, "%s: mirror is not a directory", mirror);
        path_printf(mir[n_mir++], NST_PATH_MAX, "%s", mirror);
    } else {
        n_mir = mirrors(mir, 0, 8);
    }
    int rc = mkdirs(dest, err);
    if (rc) return rc;
    char stage[NST_PATH_MAX], final[NST_PATH_MAX];
    path_printf(stage, sizeof stage, "%s/.%s.partial", dest, name);
    path_printf(final, sizeof final, "%s/%s", dest, name);
    remove_tree(stage, e);
    if (mkdir(stage, 0755))
        return nst_fail(err, NST_ERR_IO, "%s: cannot create directory: %s", stage,
                        strerror(errno));
    for (int i = 0; i < e->n_files && !rc; i++) rc = fetch_one(e, &e->files[i], stage, mir, n_mir, log, err);
    if (!rc) {
        remove_tree(final, e);
        if (rename(stage, final))
            rc = nst_fail(err, NST_ERR_IO, "%s: cannot rename to %s: %s", stage, final,
                          strerror(errno));
    }
    if (rc) remove_tree(stage, e);
    return rc;
}
